"""The PDF scanner: watched names outside stream data and in object streams, FlateDecode
streams inflated as they stream by (``_Inflater``) within ``MAX_INFLATED``, the end marker."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from dcc.documents import inspection
from dcc.documents.inspection.scanner import _MARKUP, _SPACE, _re2, _Scanner, _skip
from dcc.documents.inspection.verdicts import INFLATE_BLOCK, SNIFF_BYTES, ZIP_REACH, Kind

_DELIMITER = rb"[\x00\t\n\x0c\r ()<>\[\]{}/%]"
_PDF_NAME = re.compile(
    rb"/(?P<name>JavaScript|JS|EmbeddedFiles?|RichMedia[A-Za-z]{0,32}|XFA|Launch|OpenAction|AA"
    rb"|Encrypt|ObjStm|First)(?=" + _DELIMITER + rb")"
)
# The names looked for everywhere, stream data included: random bytes hardly spell them. RE2
# has no lookahead: the match takes the delimiter, and the next search starts again on it
# (``/OpenAction/JavaScript``: the second name starts with the delimiter of the first).
_PDF_LONG_NAME = _re2(
    rb"/(JavaScript|EmbeddedFiles?|RichMedia[A-Za-z]{0,32}|XFA|Launch|OpenAction|Encrypt)"
    + _DELIMITER
)
# The names looked for only outside stream data (``_PDF_SEQUENTIAL``), as the walk meets them.
_PDF_SHORT_NAME = re.compile(rb"/(?P<name>JS|AA|ObjStm|First)(?=" + _DELIMITER + rb")")
_PDF_ESCAPE = re.compile(rb"#[0-9A-Fa-f]{2}")
_PDF_ESCAPE_SEARCH = _re2(_PDF_ESCAPE.pattern)  # the same, over every byte
_PDF_ESCAPED_NAME = re.compile(rb"/[^\x00\t\n\x0c\r ()<>\[\]{}/%]{1,100}")
_PDF_STREAM = re.compile(rb">>[\x00\t\n\x0c\r ]{0,32}stream(?:\r\n|\n|\r(?=[^\n]))")
_PDF_ENDOBJ = re.compile(rb"endobj")
_PDF_ENDSTREAM = _re2(rb"endstream")  # in the data of skipped streams: over most bytes
_PDF_CODES = {
    b"JavaScript": "pdf_javascript",
    b"JS": "pdf_javascript",
    b"EmbeddedFile": "pdf_embedded_file",
    b"EmbeddedFiles": "pdf_embedded_file",
    b"Launch": "pdf_launch",
    b"XFA": "pdf_xfa",
    b"Encrypt": "pdf_encrypted",
    b"OpenAction": "pdf_open_action",
    b"AA": "pdf_additional_actions",
}
_PDF_FLAGS = frozenset({"pdf_open_action", "pdf_additional_actions"})
_PDF_SEQUENTIAL = frozenset({b"JS", b"AA", b"ObjStm", b"First"})
_PDF_SYNTAX = bytes(range(0x20, 0x7F)) + b"\t\n\x0c\r"
_PDF_SKIP = re.compile(rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*[\r\n])*")
_PDF_NUMBER = re.compile(rb"[+\-]?[0-9.]+")
_PDF_DELIMITERS = b"\x00\t\n\x0c\r ()<>[]{}/%"
_PDF_OBJECT_STARTS = (b"<", b"[", b"(", b"/", b"true", b"false", b"null")


# PDF: outside stream data, in a stream being inflated, in a stream skipped until endstream.
_OUTSIDE, _INFLATE, _SKIP = "outside", "inflate", "skip"


class _PdfScanner(_Scanner):
    kind = Kind.PDF
    keep_last = ZIP_REACH

    def __init__(self) -> None:
        super().__init__()
        self._mode = _OUTSIDE
        self._cursor = 0  # the structure is read up to here
        self._certain = 0  # the structure read so far depends on bytes up to here
        self._last_event = -1
        self._hinted = False  # /ObjStm or /First since the last endobj: an object stream
        self._stream: _Inflater | None = None
        self._inflated = 0

    def scan(self, window: bytes, base: int, fresh: int, final: bool) -> int:
        self.find_eicar(window, base)
        self.find_zip(window, base)
        if base < SNIFF_BYTES:
            match = _MARKUP.search(window, 0, SNIFF_BYTES - base + 64)
            if match and base + match.start() < SNIFF_BYTES:
                self.report(base + match.end(), "polyglot")
        # The searches over every byte are RE2 patterns with a literal first byte (each one
        # pass; one combined alternation is slower). The events of the walk (``stream``,
        # ``endobj``, the short names) are only looked for outside stream data, from where the
        # walk is, with ``re``.
        for offset, name in _long_names(window):
            self._name(base + offset, name, escaped=False)
        for _start, offset, name in _escaped_names(window, final):
            self._name(base - offset, name, escaped=True)
        self._walk(window, base, final)
        return self._cursor - 32

    def _name(self, offset: int, name: bytes, *, escaped: bool) -> None:
        code = "pdf_rich_media" if name.startswith(b"RichMedia") else _PDF_CODES.get(name)
        if code is None and escaped and name in (b"ObjStm", b"First"):
            code = "pdf_object_stream"
        if code in _PDF_FLAGS:
            self.flags.add(code)
        elif code is not None:
            self.report(offset, code)

    def _walk(self, window: bytes, base: int, final: bool) -> None:
        end = base + len(window)
        position = self._cursor
        events = _Events(window)
        while True:
            if self._mode == _OUTSIDE:
                event = events.next(max(position, self._last_event + 1) - base)
                if event is None:
                    self._cursor = end if final else max(position, end - 64)
                    return
                start, offset, name = event
                self._last_event = base + start
                if name == b"stream":
                    # The data starts after the end of line; the offset includes one byte more.
                    position = base + offset - 1
                    self._certain = max(self._certain, base + offset)
                    self._stream = _Inflater(hinted=self._hinted)
                    self._hinted = False
                    self._mode = _INFLATE
                elif name == b"endobj":
                    self._hinted = False
                elif name in (b"ObjStm", b"First"):
                    self._hinted = True
                elif len(window[max(0, start - 32) : start].translate(None, _PDF_SYNTAX)) <= 4:
                    # Among PDF syntax, not in binary data that stream detection missed.
                    self._name(max(self._certain, base + offset), name, escaped=False)
            elif self._mode == _SKIP:
                found = _PDF_ENDSTREAM.search(window, position - base)
                if found is None:
                    self._cursor = end if final else max(position, end - 8)
                    return
                position = base + found.end()
                self._certain = max(self._certain, position)
                self._mode = _OUTSIDE
            else:
                block_end = min((position // INFLATE_BLOCK + 1) * INFLATE_BLOCK, end)
                if position == end or (block_end % INFLATE_BLOCK and not final):
                    self._cursor = position
                    return
                position = self._inflate(
                    window[position - base : block_end - base], position, block_end
                )
                if self.issue is not None and self.issue[0] <= block_end:
                    self._cursor = end
                    return

    def _inflate(self, block: bytes, position: int, block_end: int) -> int:
        """Feed one block to the stream being inflated; return where reading goes on."""
        stream = self._stream
        assert stream is not None  # noqa: S101 - set whenever the mode is _INFLATE
        # The limit is read from the package at each use: it is set there (tests lower it).
        status, used = stream.feed(block, inspection.MAX_INFLATED - self._inflated)
        self._inflated += stream.produced
        stream.produced = 0
        self._certain = max(self._certain, block_end)
        self.flags |= stream.flags
        if stream.issue:
            self.report(block_end, stream.issue)
        elif status == "limit":
            self.report(block_end, "pdf_inflate_limit")
        elif status == "hidden" or (status == "error" and stream.hinted):
            self.report(block_end, "pdf_object_stream")
        elif status == "eof":
            self._mode = _OUTSIDE
            self._stream = None
        elif status in ("skip", "error"):
            self._mode = _SKIP
            self._stream = None
        return position + used

    def close(self) -> None:
        self.close_zip()
        if self._mode == _INFLATE:
            self.report(self.end + 1, "pdf_truncated")
        if not self.last[-1024:].rstrip(_SPACE).endswith(b"%%EOF"):
            self.report(self.end + 1, "pdf_truncated")


class _Events:
    """The events of a walk outside stream data, in the order of the window: the next one
    from a given offset, each kind searched for only once the walk has gone past the last one
    found (the kinds never start with the same byte, and a match never overlaps another of its
    kind: this finds what ``finditer`` over the whole window would)."""

    _KINDS = ((_PDF_STREAM, 1, b"stream"), (_PDF_ENDOBJ, 0, b"endobj"), (_PDF_SHORT_NAME, 1, b""))

    def __init__(self, window: bytes) -> None:
        self._window = window
        self._searched = [False, False, False]
        self._found: list[re.Match[bytes] | None] = [None, None, None]

    def next(self, at: int) -> tuple[int, int, bytes] | None:
        """The first event starting at ``at`` or after: (start, offset, name)."""
        at = max(at, 0)
        best: tuple[int, int, bytes] | None = None
        for kind, (pattern, extra, name) in enumerate(self._KINDS):
            match = self._found[kind]
            if not self._searched[kind] or (match is not None and match.start() < at):
                match = self._found[kind] = pattern.search(self._window, at)
                self._searched[kind] = True
            if match is not None and (best is None or match.start() < best[0]):
                best = (match.start(), match.end() + extra, name or match["name"])
        return best


def _long_names(window: bytes) -> Iterator[tuple[int, bytes]]:
    """The names of ``_PDF_LONG_NAME`` in a window: (offset just after the delimiter, name)."""
    at = 0
    while (match := _PDF_LONG_NAME.search(window, at)) is not None:
        at = match.end() - 1  # the delimiter may start the next name
        yield at + 1, match.group(1)


def _pdf_names(window: bytes, final: bool) -> Iterator[tuple[int, int, bytes]]:
    """The watched names in a window: (start, offset where known, decoded name). The offset is
    negative for a name spelt with ``#xx`` escapes."""
    for match in _PDF_NAME.finditer(window):
        yield match.start(), match.end() + 1, match["name"]
    yield from _escaped_names(window, final)


def _escaped_names(window: bytes, final: bool) -> Iterator[tuple[int, int, bytes]]:
    """The watched names spelt with ``#xx`` escapes: (start, minus the offset, decoded name)."""
    done = -1
    for escape in _PDF_ESCAPE_SEARCH.finditer(window):
        at: int = escape.start()
        start = window.rfind(b"/", max(0, at - 64), at)
        if start <= done:
            continue
        name = _PDF_ESCAPED_NAME.match(window, start)
        if name is None or name.end() <= at:
            continue
        done = start
        after = window[name.end() : name.end() + 1]
        if (after and after not in _PDF_DELIMITERS) or (not after and not final):
            continue
        decoded = _PDF_ESCAPE.sub(lambda h: bytes.fromhex(h[0][1:].decode()), name[0][1:])
        if decoded in _PDF_CODES or decoded in _PDF_SEQUENTIAL or decoded.startswith(b"RichMedia"):
            yield start, -(name.end() + 1), decoded


class _Inflater:
    """One FlateDecode stream of a PDF, inflated as far as needed to see the objects in it."""

    def __init__(self, *, hinted: bool) -> None:
        self.hinted = hinted
        self.issue: str | None = None
        self.flags: set[str] = set()
        self.produced = 0
        self._zlib = zlib.decompressobj()
        self._full = False
        self._probe = b""
        self._tail = b""

    def feed(self, block: bytes, budget: int) -> tuple[str, int]:
        """Status (more, eof, skip, hidden, error, limit) and the bytes of block used."""
        data = block
        try:
            while True:
                step = INFLATE_BLOCK if self._full else SNIFF_BYTES
                out = self._zlib.decompress(data, step)
                data = self._zlib.unconsumed_tail
                eof = self._zlib.eof
                produced = len(out)
                self.produced += produced
                if not self._full:
                    self._probe += out
                    looks = _object_stream_like(self._probe)
                    if looks is None and (eof or len(self._probe) >= SNIFF_BYTES):
                        looks = True  # only white space or comments so far: read it all
                    if looks is None:
                        out = b""
                    elif looks:
                        self._full = True
                        out, self._probe = self._probe, b""
                    elif self.hinted:
                        return "hidden", 0
                    elif eof:
                        return "eof", len(block) - len(self._zlib.unused_data)
                    else:
                        return "skip", len(block) - len(data)
                if out or eof:
                    self._names(out, final=eof)
                if eof:
                    return "eof", len(block) - len(self._zlib.unused_data)
                if self.issue:
                    return "issue", 0
                if self.produced > budget:
                    return "limit", 0
                if not data and produced < step:
                    return "more", len(block)
        except zlib.error:
            return "error", 0

    def _names(self, out: bytes, *, final: bool) -> None:
        window = self._tail + out
        for _start, _offset, name in _pdf_names(window, final):
            code = "pdf_rich_media" if name.startswith(b"RichMedia") else _PDF_CODES.get(name)
            if code in _PDF_FLAGS:
                self.flags.add(code)
            elif code is not None:
                self.issue = self.issue or code
        self._tail = window[-128:]


def _object_stream_like(data: bytes) -> bool | None:
    """Whether inflated data starts as readers parse an object stream: integers (pairs of
    object number and offset; white space and comments allowed), then the first object.
    ``None`` while it cannot be told yet. Page contents (``1 0 0 1 0 0 cm``, ``q``, ``BT``),
    images and fonts do not."""
    at = count = 0
    while count < 256:
        at = _skip(_PDF_SKIP, data, at)
        if len(data) - at < 6 or data[at] == 0x25:  # more is needed, or a comment is open
            return None
        number = _PDF_NUMBER.match(data, at)
        if number is not None and number.end() == len(data):
            return None
        if number is None or data[number.end()] not in _PDF_DELIMITERS:
            return count >= 2 and data.startswith(_PDF_OBJECT_STARTS, at)
        at = number.end()
        count += 1
    return True
