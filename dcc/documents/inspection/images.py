"""The JPEG and PNG scanners: polyglots (a ZIP, markup or a PDF header inside), the PNG chunk
structure, the end marker and what follows it."""

from __future__ import annotations

from dcc.documents.inspection.scanner import _MARKUP, _SPACE, _Scanner
from dcc.documents.inspection.verdicts import JPEG_PADDING, SNIFF_BYTES, ZIP_REACH, Kind


class _ImageScanner(_Scanner):
    keep_last = ZIP_REACH

    def scan(self, window: bytes, base: int, fresh: int, final: bool) -> int:
        self.find_eicar(window, base)
        self.find_zip(window, base)
        match = _MARKUP.search(window)
        if match:
            self.report(base + match.end(), "polyglot")
        if base < SNIFF_BYTES:
            at = window.find(b"%PDF-", 0, SNIFF_BYTES - base + 4)
            if at >= 0:
                self.report(base + at + 5, "polyglot")
        return base + len(window)


class _JpegScanner(_ImageScanner):
    kind = Kind.JPEG

    def close(self) -> None:
        self.close_zip()
        body = self.last.rstrip(_SPACE + b"\xff")
        if body.endswith(b"\xff\xd9") and len(self.last) - len(body) <= JPEG_PADDING:
            return
        code = "image_trailing_data" if b"\xff\xd9" in self.last else "image_truncated"
        self.report(self.end + 1, code)


class _PngScanner(_ImageScanner):
    kind = Kind.PNG

    def __init__(self) -> None:
        super().__init__()
        self._chunk = 8  # offset of the next chunk header
        self._ended: int | None = None  # offset just after IEND

    def scan(self, window: bytes, base: int, fresh: int, final: bool) -> int:
        super().scan(window, base, fresh, final)
        end = base + len(window)
        while self._ended is None and self._chunk + 8 <= end:
            at = self._chunk - base
            length = int.from_bytes(window[at : at + 4], "big")
            name = window[at + 4 : at + 8]
            first = self._chunk == 8
            if (
                length > 0x7FFFFFFF
                or not name.isalpha()
                or first != (name == b"IHDR")
                or (first and length != 13)
                or (name == b"IEND" and length != 0)
            ):
                self.report(self._chunk + 8, "image_invalid")
                break
            self._chunk += 12 + length
            if name == b"IEND":
                self._ended = self._chunk
        if self._ended is not None and end > self._ended:
            # Counted from a little further, so that a ZIP or a page appended is named so.
            self.report(self._ended + 64, "image_trailing_data")
        return min(self._chunk, end)

    def close(self) -> None:
        self.close_zip()
        if self._ended is None:
            self.report(self.end + 1, "image_truncated")
