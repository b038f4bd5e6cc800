"""The base of the content scanners (windows made of an overlap and the new chunk, findings
ranked by offset then precedence) and the byte patterns several stages share."""

from __future__ import annotations

import re
from typing import Any

import re2

from dcc.documents.inspection.verdicts import _PRIORITY, Kind

_EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
_BOM = b"\xef\xbb\xbf"
_SPACE = b"\x00\t\n\x0c\r "  # PDF white space
# A ZIP local file header (version needed, method checked so random bytes do not match), or
# an end of central directory on disk 0.
_ZIP_PATTERN = (
    rb"PK(?:\x03\x04[\x00-\x3f]\x00..[\x00\x08\x09\x0c\x0e\x5d\x5f\x62\x63]\x00"
    rb"|\x05\x06\x00\x00\x00\x00)"
)


def _re2(pattern: bytes) -> Any:
    """A bytes pattern compiled by RE2 (one byte a character, ``.`` matching any byte): the
    passes over every byte run several times faster than with ``re``. Only for patterns that
    mean the same to both: no lookaround, no back reference, no ``\\s`` or ``\\b`` (their
    classes differ), so a search finds what ``re`` would, with the same groups."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.dot_nl = True
    return re2.compile(pattern, options)


_ZIP = _re2(_ZIP_PATTERN)
_EICAR_SEARCH = _re2(re2.escape(_EICAR))
_MARKUP = re.compile(
    rb"<(?:(?P<svg>(?i:svg)[\s/>])|(?i:html|script|iframe)[\s/>]|(?i:!doctype)\s{1,32}(?i:html))"
)
_TEXT_CONTROLS = bytes(range(0, 9)) + b"\x0b" + bytes(range(0x0E, 0x20)) + b"\x7f"


class _Scanner:
    """Scans one kind of content over windows made of an overlap kept from the previous chunk
    and the new chunk. Offsets are absolute; findings are kept as (offset, rank, code)."""

    kind: Kind
    keep_last = 0
    overlap = 256

    def __init__(self) -> None:
        self.issue: tuple[int, int, str, str | None] | None = None
        self.flags: set[str] = set()
        self.end = 0
        self._tail = b""
        self._base = 0
        self.last = b""

    def report(self, offset: int, code: str, message: str | None = None) -> None:
        found = (offset, _PRIORITY[code], code, message)
        if self.issue is None or found[:2] < self.issue[:2]:
            self.issue = found

    def push(self, data: bytes, final: bool) -> None:
        window = self._tail + data if self._tail else data
        base = self._base
        self.end = end = base + len(window)
        keep = min(self.scan(window, base, len(data), final), end - self.overlap)
        if keep > base:
            self._tail = window[keep - base :]
            self._base = keep
        else:
            self._tail = window
        if self.keep_last and data:
            if len(data) >= self.keep_last:
                self.last = data[-self.keep_last :]
            else:
                self.last = (self.last + data)[-self.keep_last :]

    def scan(self, window: bytes, base: int, fresh: int, final: bool) -> int:
        """Record findings; return the offset from which bytes must be seen again."""
        raise NotImplementedError

    def close(self) -> None:
        """Checks on the whole content, reported just after its end."""

    def find_eicar(self, window: bytes, base: int) -> None:
        match = _EICAR_SEARCH.search(window)
        if match:
            self.report(base + match.end(), "malware_test_signature")

    def find_zip(self, window: bytes, base: int) -> None:
        match = _ZIP.search(window)
        if match:
            self.report(base + match.end(), "polyglot")

    def close_zip(self) -> None:
        if b"PK\x05\x06" in self.last:
            self.report(self.end + 1, "polyglot")


def _skip(pattern: re.Pattern[bytes], data: bytes, at: int) -> int:
    """Where a pattern that may match nothing (white space, comments) ends."""
    match = pattern.match(data, at)
    return match.end() if match else at
