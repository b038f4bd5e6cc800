"""The ``Inspector``: the chunks go to the sniffer until the kind is known, then to the
scanner of that kind; the earliest finding is raised once every byte before it is seen."""

from __future__ import annotations

from typing import NoReturn

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext

from dcc.documents.inspection.images import _JpegScanner, _PngScanner
from dcc.documents.inspection.pdf import _PdfScanner
from dcc.documents.inspection.scanner import _Scanner
from dcc.documents.inspection.sniffing import _MARKUP_CANDIDATE, _sniff
from dcc.documents.inspection.text import _MarkupScanner, _TextScanner
from dcc.documents.inspection.verdicts import MIME, Kind, RejectedContent, Verdict, _mismatch

_SCANNERS: dict[str, type[_Scanner]] = {
    Kind.PDF: _PdfScanner,
    Kind.JPEG: _JpegScanner,
    Kind.PNG: _PngScanner,
    Kind.TEXT: _TextScanner,
}


class Inspector:
    """Decides the kind of one upload from its bytes, chunk by chunk, in bounded memory."""

    def __init__(self, *, declared: Kind | None = None, max_size: int | None = None) -> None:
        self.declared = declared
        self.max_size = max_size
        self._size = 0
        self._head = bytearray()
        self._scanner: _Scanner | None = None
        self._failure: RejectedContent | None = None
        self._verdict: Verdict | None = None

    @property
    def size(self) -> int:
        """Bytes received so far."""
        return self._size

    def feed(self, chunk: bytes) -> None:
        if self._failure is not None:
            raise self._failure
        if self._verdict is not None:
            raise ValueError("the inspection is finished")
        self._size += len(chunk)
        limit = self.max_size
        over = 0 if limit is None else max(0, self._size - limit)
        # The bytes within the limit are inspected first: what they hold is found whatever
        # the chunking, before the size is refused.
        accepted = chunk[: len(chunk) - over] if over else chunk
        if accepted:
            self._advance(accepted, final=False)
        if limit is not None and over:
            message = gettext("Le fichier dépasse la taille maximale autorisée (%(limit)s).")
            self._reject("too_large", message % {"limit": filesizeformat(limit)})

    def finish(self) -> Verdict:
        if self._failure is not None:
            raise self._failure
        if self._verdict is not None:
            return self._verdict
        if self._size == 0:
            self._reject("empty")
        self._advance(b"", final=True)
        scanner = self._scanner
        assert scanner is not None  # noqa: S101 - the final sniff always decides
        scanner.close()
        self._check(scanner, final=True)
        self._verdict = Verdict(scanner.kind, MIME[scanner.kind], tuple(sorted(scanner.flags)))
        return self._verdict

    def _advance(self, data: bytes, *, final: bool) -> None:
        scanner = self._scanner
        if scanner is None:
            self._head += data
            found = _sniff(bytes(self._head), final, self.declared)
            if found is None:
                return
            if found == _MARKUP_CANDIDATE:
                scanner = _MarkupScanner(self.declared)
            elif isinstance(found, Kind):
                if self.declared is not None and found != self.declared:
                    self._reject("type_mismatch", _mismatch(self.declared, found))
                scanner = _SCANNERS[found]()
            else:
                self._reject(found)
            self._scanner = scanner
            data, self._head = bytes(self._head), bytearray()
        scanner.push(data, final)
        self._check(scanner, final=final)

    def _check(self, scanner: _Scanner, *, final: bool) -> None:
        # A finding is raised once every byte before its offset has been seen: one found
        # later in the stream but certain earlier would have been reported instead.
        issue = scanner.issue
        if issue is not None and (final or issue[0] <= scanner.end):
            self._reject(issue[2], issue[3])

    def _reject(self, code: str, message: str | None = None) -> NoReturn:
        self._failure = RejectedContent(code, message)
        raise self._failure


def inspect_bytes(
    data: bytes, *, declared: Kind | None = None, max_size: int | None = None
) -> Verdict:
    """The verdict on content held in memory (small documents, tests)."""
    inspector = Inspector(declared=declared, max_size=max_size)
    inspector.feed(data)
    return inspector.finish()
