"""The text scanner (UTF-8, no control character, no web markup) and the markup scanner (XML,
expected to be a CDA: its root element, DOCTYPEs and entities, active content)."""

from __future__ import annotations

import codecs
import re

from dcc.documents.inspection.scanner import _BOM, _MARKUP, _TEXT_CONTROLS, _Scanner, _skip
from dcc.documents.inspection.verdicts import ROOT_WINDOW, Kind, _mismatch

_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080–U+009F in UTF-8
_TEXT_TABLE = bytes(0 if byte in _TEXT_CONTROLS else 1 for byte in range(256))
_XML_TABLE = bytes(0 if byte in _TEXT_CONTROLS + b"\x0c" else 1 for byte in range(256))

_XML_MARKS = re.compile(
    rb"<(?:(?P<doctype>(?i:!doctype))|(?P<entity>(?i:!entity))|(?i:script)[\s/>])"
)
_XML_ACTIVE = re.compile(
    rb"(?i:javascript|vbscript):|http://www\.w3\.org/(?:1999/xhtml|2000/svg|1999/XSL/Transform)"
)
_XML_DOCTYPE_NAME = re.compile(rb"<!doctype\s+([A-Za-z_][\w.:\-]*)", re.IGNORECASE)
_XML_SPACE = re.compile(rb"[ \t\r\n]*")
_XML_START_TAG = re.compile(
    rb"<(?:([A-Za-z_][\w.\-]*):)?([A-Za-z_][\w.\-]*)"
    rb"((?:\s+[A-Za-z_:][\w.\-:]*\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*/?>"
)
_XML_ATTRIBUTE = re.compile(rb"([A-Za-z_:][\w.\-:]*)\s*=\s*(?:\"([^\"<]*)\"|'([^'<]*)')")
_XML_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([^\"']*)[\"']")
_HTML_ROOTS = frozenset(
    b"html head body script iframe frameset div p a img meta link style title form table span "
    b"object embed base template noscript".split()
)


class _TextScanner(_Scanner):
    kind = Kind.TEXT
    table = _TEXT_TABLE

    def __init__(self) -> None:
        super().__init__()
        self._pending = b""  # an incomplete UTF-8 sequence at the end of the previous chunk
        self._blank = True

    def scan(self, window: bytes, base: int, fresh: int, final: bool) -> int:
        end = base + len(window)
        self.find_eicar(window, base)
        at = window.translate(self.table).find(b"\x00")
        if at >= 0:
            self.report(base + at + 1, "text_control")
        match = _C1_CONTROL.search(window)
        if match:
            self.report(base + match.end(), "text_control")
        self.scan_markup(window, base, final)
        data = window[len(window) - fresh :]
        if self._blank and data.strip(b" \t\n\r\x0c"):
            self._blank = False
        start = end - fresh - len(self._pending)
        text = self._pending + data if self._pending else data
        try:
            _, used = codecs.utf_8_decode(text, "strict", final)
        except UnicodeDecodeError as error:
            self.report(start + error.end + 1, "text_encoding")
        else:
            self._pending = text[used:]
        return end

    def scan_markup(self, window: bytes, base: int, final: bool) -> None:
        match = _MARKUP.search(window)
        if match:
            self.report(base + match.end(), "svg" if match["svg"] else "html")

    def close(self) -> None:
        if self._blank:
            self.report(self.end + 1, "empty")


class _MarkupScanner(_TextScanner):
    """XML, expected to be a CDA: the root element is found in the first ``ROOT_WINDOW``
    bytes, the checks of a text apply to the whole document, with those of XML."""

    kind = Kind.CDA
    table = _XML_TABLE

    def __init__(self, declared: Kind | None) -> None:
        super().__init__()
        self._declared = declared
        self._head: bytearray | None = bytearray()
        self._at = 0  # how far the prolog has been read
        self._root: int | None = None  # where the root element was decided
        self._active: int | None = None  # active content seen before that

    def scan_markup(self, window: bytes, base: int, final: bool) -> None:
        for match in _XML_MARKS.finditer(window):
            if match["entity"]:
                self.report(base + match.end(), "xml_doctype")
            elif not match["doctype"]:
                self._active_content(base + match.end())
            elif final or match.start() + 128 <= len(window):
                # The name tells a web page or an SVG image from a DTD: decided on 128 bytes.
                name = _XML_DOCTYPE_NAME.match(window, match.start(), match.start() + 128)
                doctype = name[1].lower() if name else b""
                code = doctype.decode() if doctype in (b"html", b"svg") else "xml_doctype"
                self.report(min(base + match.start() + 128, base + len(window)), code)
            else:
                continue
            break
        active = _XML_ACTIVE.search(window)
        if active:
            self._active_content(base + active.end())

    def _active_content(self, offset: int) -> None:
        # Scripts and namespaces first tell whether the root is an SVG image or a web page: for
        # a CDA, they count from where its root is known.
        if self._root is None:
            self._active = offset if self._active is None else min(self._active, offset)
        else:
            self.report(max(offset, self._root), "xml_active_content")

    def scan(self, window: bytes, base: int, fresh: int, final: bool) -> int:
        keep = super().scan(window, base, fresh, final)
        head = self._head
        if head is not None:
            data = window[len(window) - fresh :]
            head += data[: max(0, ROOT_WINDOW - len(head))]
            if final or len(head) >= ROOT_WINDOW or b">" in data:
                self._find_root(bytes(head), final)
        return keep

    def _find_root(self, head: bytes, final: bool) -> None:
        complete = final or len(head) >= ROOT_WINDOW
        at = self._at or (3 if head.startswith(_BOM) else 0)
        while True:
            at = _skip(_XML_SPACE, head, at)
            self._at = at
            if head.startswith(b"<?", at):
                close = head.find(b"?>", at)
                if close < 0:
                    break
                self._instruction(head[at : close + 2], close + 2)
                at = close + 2
            elif head.startswith(b"<!--", at):
                close = head.find(b"-->", at + 4)
                if close < 0:
                    break
                at = close + 3
            elif head.startswith(b"<!", at):
                break  # a DOCTYPE (reported by scan_markup) or CDATA: no root is found
            else:
                match = _XML_START_TAG.match(head, at)
                if match:
                    self._decide(match, match.end())
                    return
                break
        if complete:
            self._decide(None, min(self.end + 1, ROOT_WINDOW))

    def _instruction(self, text: bytes, offset: int) -> None:
        if text.startswith(b"<?xml-stylesheet"):
            self.flags.add("xml_stylesheet")
        elif text.startswith(b"<?xml") and text[5:6] in b" \t\r\n?":
            encoding = _XML_ENCODING.search(text)
            if encoding and encoding[1].lower() not in (b"utf-8", b"utf8"):
                self.report(offset, "text_encoding")

    def _decide(self, tag: re.Match[bytes] | None, offset: int) -> None:
        self._head = None
        self._root = offset
        declared = self._declared
        local = tag[2] if tag else b""
        cda = tag is not None and local == b"ClinicalDocument"
        if local.lower() == b"svg":
            self.report(offset, "svg")
        elif local.lower() in _HTML_ROOTS:
            self.report(offset, "html")
        elif declared is not None and declared is not Kind.CDA:
            self.report(offset, "type_mismatch", _mismatch(declared, Kind.CDA if cda else None))
        elif not cda or tag is None or _namespace(tag) != b"urn:hl7-org:v3":
            self.report(offset, "cda_not_clinical_document")
        elif self._active is not None:
            self.report(max(self._active, offset), "xml_active_content")


def _namespace(tag: re.Match[bytes]) -> bytes | None:
    wanted = b"xmlns:" + tag[1] if tag[1] else b"xmlns"
    for attribute in _XML_ATTRIBUTE.finditer(tag[3]):
        if attribute[1] == wanted:
            return attribute[2] if attribute[2] is not None else attribute[3]
    return None
