"""Deciding what an uploaded document is from its bytes, while it streams in.

``Inspector`` is fed the upload chunk by chunk (any sizes, any boundaries) and keeps bounded
state: the first KiB until the type is known (64 KiB for XML, to find the root element), a few
hundred bytes of overlap between chunks, the last 64 KiB (end markers, ZIP directories) and, for
PDFs, one zlib stream at a time. The type is decided by the content, never by the file name; a
type declared by the user must match it. Each finding carries the offset from which it became
certain and the earliest one is reported, so the same bytes give the same verdict or the same
rejection code whatever the chunking. Scans are regular expressions with a literal first byte,
``bytes.find`` and ``bytes.translate`` over each chunk (no loop over bytes in Python).

Rejection codes (``RejectedContent.code``):

- ``empty``: no byte, or a text of nothing but white space.
- ``too_large``: more than ``max_size`` bytes, raised by the ``feed`` that crosses it.
- ``unknown_type``: not one of the accepted kinds (binary data, Office, GIF, RTF, PostScript…).
- ``type_mismatch``: an accepted kind, but not the one declared.
- ``archive``: zip, gzip, 7z, rar, tar, bzip2, xz, zstd, lz4, cab, ar.
- ``executable``: PE (MZ), ELF, Mach-O, Java class, WebAssembly, DEX, ``#!`` scripts.
- ``polyglot``: a PDF or image that is also something else: a ZIP local header or end of
  central directory anywhere, or within reach of a ZIP reader at the end; HTML or SVG markup
  anywhere in an image, or in the first KiB of a PDF; ``%PDF-`` in the first KiB of anything
  that is not a PDF (PDF readers look that far).
- ``html``, ``svg``: web pages and SVG images (they can carry scripts), or a text containing
  ``<html``, ``<script``, ``<iframe``, ``<!doctype html`` or ``<svg`` anywhere.
- ``malware_test_signature``: the EICAR test string anywhere. There is no antivirus here: a
  real scanner (ClamAV…) belongs right after ``finish``, before the content is made available.
- ``text_encoding``: a text (or XML) not in UTF-8 (Latin-1, UTF-16…).
- ``text_control``: NUL or another control character (only tab, LF, CR and, outside XML, form
  feed are allowed; C1 controls U+0080–U+009F are refused too).
- ``xml_doctype``: ``<!DOCTYPE`` or ``<!ENTITY`` anywhere in XML (XXE, billion laughs): refused
  before any parser runs. The complete parse is done elsewhere, with defusedxml.
- ``xml_active_content``: a CDA containing ``<script``, ``javascript:``, ``vbscript:`` or the
  XHTML, SVG or XSLT namespaces: none belongs in a CDA and a browser would run them.
- ``cda_not_clinical_document``: XML whose root (found in the first 64 KiB) is not
  ``ClinicalDocument`` in the ``urn:hl7-org:v3`` namespace.
- ``image_invalid``, ``image_truncated``, ``image_trailing_data``: a PNG whose chunk structure
  is broken; a JPEG or PNG without its end (EOI, IEND); bytes after the end (beyond 32 bytes of
  padding for JPEG) — where polyglots hide, also "motion photos" with a video appended.
- ``pdf_truncated``: no ``%%EOF`` at the end (only white space may follow, within the last
  KiB), or a compressed stream cut off.
- ``pdf_javascript`` (``/JavaScript``, ``/JS``), ``pdf_embedded_file`` (``/EmbeddedFile``,
  ``/EmbeddedFiles``), ``pdf_launch`` (``/Launch``), ``pdf_rich_media`` (``/RichMedia…``),
  ``pdf_xfa`` (``/XFA``): active content. Names are compared after decoding ``#xx`` escapes.
- ``pdf_encrypted``: ``/Encrypt``: an encrypted PDF (even with an empty user password) hides its
  strings and streams, so nothing above could be checked.
- ``pdf_object_stream``: an object stream that cannot be read (not Flate, a predictor,
  corrupt) or names such as ``/ObjStm`` spelt with ``#xx`` escapes to hide them.
- ``pdf_inflate_limit``: more than ``MAX_INFLATED`` bytes to inflate (a decompression bomb).

Flags (``Verdict.flags``, non-blocking, for the audit trail and the viewer):

- ``pdf_open_action``: ``/OpenAction`` (usually "open at page N"; a script there is refused).
- ``pdf_additional_actions``: ``/AA`` (actions on page or field events; scripts are refused).
- ``xml_stylesheet``: an ``<?xml-stylesheet?>`` instruction before the CDA root (the renderer
  must ignore it; downloads are served as attachments).

PDF limits. Objects hidden in FlateDecode streams are seen by inflating them as they stream by,
at most ``MAX_INFLATED`` bytes per document, 64 KiB at a time. Only streams whose content
starts like an object stream (pairs of integers, as readers parse them) are inflated in full;
page contents, images and fonts are left after their first KiB. A stream whose dictionary says
``/ObjStm`` or ``/First`` must be Flate and look like one, or it is refused. ``/JS`` and ``/AA``
are two-letter names that random bytes spell about once every 270 MB, so they are only looked
for outside stream data, after PDF syntax (at most 4 bytes out of 32 before them not printable
ASCII), and in object streams; the longer names are looked for everywhere. What
remains possible: a reader that runs ``/JS`` without ``/S /JavaScript`` where this scan takes
it for binary data (in a region after a fake ``stream`` keyword hidden in a string or comment,
or right after a binary string). Viewers
must still run with scripts disabled and downloads are attachments with ``nosniff``.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Kind(StrEnum):
    """What a content was found to be (``ContentKind`` values, see ``choices``)."""

    PDF = "pdf"
    CDA = "cda"
    JPEG = "jpeg"
    PNG = "png"
    TEXT = "text"


MIME = {
    Kind.PDF: "application/pdf",
    Kind.CDA: "text/xml",
    Kind.JPEG: "image/jpeg",
    Kind.PNG: "image/png",
    Kind.TEXT: "text/plain",
}

SNIFF_BYTES = 1024  # the type of anything but a known signature is decided on this much
ROOT_WINDOW = 64 * 1024  # an XML root element must start within this much
ZIP_REACH = 65_557  # a ZIP reader looks for its end record this far from the end
INFLATE_BLOCK = 64 * 1024  # PDF streams are inflated block by block, aligned on this
MAX_INFLATED = 512 * 1024 * 1024
JPEG_PADDING = 32

# In order of precedence: when findings are certain at the same offset, the first is reported.
_MESSAGES = {
    "malware_test_signature": _(
        "Le fichier contient la signature de test antivirus EICAR : il est refusé."
    ),
    "executable": _("Les programmes et les scripts exécutables ne sont pas acceptés."),
    "archive": _(
        "Les archives (ZIP, 7z, RAR, tar…) ne sont pas acceptées : déposez chaque document séparément."
    ),
    "polyglot": _(
        "Le fichier mêle plusieurs formats (par exemple un PDF ou une image contenant aussi une archive ou une page web) : il n'est pas accepté."
    ),
    "html": _(
        "Les pages web (HTML) et les fichiers contenant du code HTML ou des scripts ne sont pas acceptés."
    ),
    "svg": _(
        "Les images SVG ne sont pas acceptées car elles peuvent contenir du code : utilisez PNG, JPEG ou PDF."
    ),
    "xml_doctype": _(
        "Le document XML contient une déclaration DOCTYPE ou des entités, qui ne sont pas acceptées."
    ),
    "xml_active_content": _(
        "Le document CDA contient du contenu actif (HTML, SVG, script ou feuille de style XSLT), qui n'est pas accepté."
    ),
    "pdf_javascript": _("Le PDF contient du JavaScript, qui n'est pas accepté."),
    "pdf_launch": _("Le PDF contient une action qui lance un programme, ce qui n'est pas accepté."),
    "pdf_embedded_file": _(
        "Le PDF contient des fichiers joints, qui ne sont pas acceptés : déposez chaque document séparément."
    ),
    "pdf_rich_media": _(
        "Le PDF contient du contenu multimédia actif (RichMedia), qui n'est pas accepté."
    ),
    "pdf_xfa": _("Le PDF contient un formulaire XFA, qui n'est pas accepté."),
    "pdf_encrypted": _(
        "Le PDF est chiffré ou protégé par un mot de passe, son contenu ne peut pas être contrôlé : enregistrez-le sans protection puis déposez-le à nouveau."
    ),
    "pdf_object_stream": _(
        "Le PDF contient des objets compressés ou masqués qui ne peuvent pas être contrôlés."
    ),
    "pdf_inflate_limit": _("Le PDF contient trop de données compressées pour être contrôlé."),
    "type_mismatch": _("Le contenu du fichier ne correspond pas au type de document annoncé."),
    "cda_not_clinical_document": _(
        "Le fichier XML n'est pas un document CDA : son élément racine doit être ClinicalDocument (espace de noms urn:hl7-org:v3)."
    ),
    "text_encoding": _(
        "Le texte doit être encodé en UTF-8 : ce fichier utilise un autre encodage (par exemple Latin-1 ou UTF-16)."
    ),
    "text_control": _("Le texte contient des caractères de contrôle ou des données binaires."),
    "image_invalid": _("L'image est endommagée : sa structure n'est pas valide."),
    "image_trailing_data": _(
        "L'image est suivie de données supplémentaires (par exemple une vidéo de « photo animée ») : enregistrez-la comme une image simple."
    ),
    "image_truncated": _("L'image est incomplète ou endommagée."),
    "pdf_truncated": _("Le PDF est incomplet ou endommagé : sa marque de fin (%%EOF) est absente."),
    "unknown_type": _(
        "Le type de ce fichier n'est pas reconnu ou n'est pas accepté. Formats acceptés : PDF, document CDA (XML), image JPEG ou PNG, texte UTF-8."
    ),
    "empty": _("Le fichier est vide."),
    "too_large": _("Le fichier dépasse la taille maximale autorisée."),
}
_PRIORITY = {code: rank for rank, code in enumerate(_MESSAGES)}
_KIND_NAMES = {
    Kind.PDF: _("un PDF"),
    Kind.CDA: _("un document CDA"),
    Kind.JPEG: _("une image JPEG"),
    Kind.PNG: _("une image PNG"),
    Kind.TEXT: _("un texte"),
}


class RejectedContent(Exception):
    """The content is refused: ``code`` for machines, ``message`` (French) for the user."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = str(_MESSAGES[code]) if message is None else message
        super().__init__(code, self.message)  # both, so that it survives pickling

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Verdict:
    """An accepted content: its kind, the MIME type to serve it with, observations."""

    kind: Kind
    mime: str
    flags: tuple[str, ...]


def _mismatch(declared: Kind, found: Kind | None) -> str:
    """The message for content of another kind than declared (``None``: XML, not a CDA)."""
    return gettext("Le fichier n'est pas %(declared)s : son contenu est %(found)s.") % {
        "declared": _KIND_NAMES[declared],
        "found": _KIND_NAMES[found] if found else gettext("un document XML"),
    }


# --- Patterns -------------------------------------------------------------------------------

_EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
_BOM = b"\xef\xbb\xbf"
_SPACE = b"\x00\t\n\x0c\r "  # PDF white space
_DELIMITER = rb"[\x00\t\n\x0c\r ()<>\[\]{}/%]"
# A ZIP local file header (version needed, method checked so random bytes do not match), or
# an end of central directory on disk 0.
_ZIP = re.compile(
    rb"PK(?:\x03\x04[\x00-\x3f]\x00..[\x00\x08\x09\x0c\x0e\x5d\x5f\x62\x63]\x00"
    rb"|\x05\x06\x00\x00\x00\x00)",
    re.DOTALL,
)
_MARKUP = re.compile(
    rb"<(?:(?P<svg>(?i:svg)[\s/>])|(?i:html|script|iframe)[\s/>]|(?i:!doctype)\s{1,32}(?i:html))"
)
_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080–U+009F in UTF-8
_TEXT_CONTROLS = bytes(range(0, 9)) + b"\x0b" + bytes(range(0x0E, 0x20)) + b"\x7f"
_TEXT_TABLE = bytes(0 if byte in _TEXT_CONTROLS else 1 for byte in range(256))
_XML_TABLE = bytes(0 if byte in _TEXT_CONTROLS + b"\x0c" else 1 for byte in range(256))

_PDF_NAME = re.compile(
    rb"/(?P<name>JavaScript|JS|EmbeddedFiles?|RichMedia[A-Za-z]{0,32}|XFA|Launch|OpenAction|AA"
    rb"|Encrypt|ObjStm|First)(?=" + _DELIMITER + rb")"
)
_PDF_ESCAPE = re.compile(rb"#[0-9A-Fa-f]{2}")
_PDF_ESCAPED_NAME = re.compile(rb"/[^\x00\t\n\x0c\r ()<>\[\]{}/%]{1,100}")
_PDF_STREAM = re.compile(rb">>[\x00\t\n\x0c\r ]{0,32}stream(?:\r\n|\n|\r(?=[^\n]))")
_PDF_ENDOBJ = re.compile(rb"endobj")
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
_MARKUP_START = re.compile(rb"[ \t\r\n]*<[A-Za-z_?!/]")
_MARKUP_CANDIDATE = "markup"

_ARCHIVES = (
    b"PK\x03\x04 PK\x05\x06 PK\x07\x08 \x1f\x8b 7z\xbc\xaf\x27\x1c Rar!\x1a\x07 \xfd7zXZ\x00"
    b" \x28\xb5\x2f\xfd \x04\x22\x4d\x18 LZIP MSCF\x00\x00\x00\x00 !<arch>\n"
).split(b" ") + [b"BZh%d%s" % (n, t) for n in range(1, 10) for t in (b"1AY&SY", b"\x17rE8P\x90")]
_EXECUTABLES = (
    b"\x7fELF \xfe\xed\xfa\xce \xfe\xed\xfa\xcf \xce\xfa\xed\xfe \xcf\xfa\xed\xfe \xca\xfe\xba\xbe"
    b" \x00asm dex\n0 #!"
).split(b" ")
# Office 97 (OLE), RTF, PostScript, GIF, TIFF: known formats, not accepted.
_OTHERS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 {\\rtf %!PS GIF87a GIF89a II*\x00 MM\x00*".split(b" ")
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-1.", Kind.PDF),
    (b"%PDF-2.", Kind.PDF),
    (b"\xff\xd8\xff", Kind.JPEG),
    (b"\x89PNG\r\n\x1a\n", Kind.PNG),
    *((signature, "archive") for signature in _ARCHIVES),
    *((signature, "executable") for signature in _EXECUTABLES),
    *((signature, "unknown_type") for signature in _OTHERS),
]


def _sniff(head: bytes, final: bool, declared: Kind | None) -> str | None:
    """The candidate kind (a ``Kind`` or ``"markup"``), a rejection code, or ``None`` until the
    bytes that decide have arrived."""
    waiting = False
    for signature, outcome in _SIGNATURES:
        if head.startswith(signature):
            return outcome
        waiting = waiting or signature.startswith(head)
    if not final and (waiting or len(head) < SNIFF_BYTES):
        return None
    window = head[:SNIFF_BYTES]
    if _EICAR in window:
        return "malware_test_signature"
    if window[257:262] == b"ustar":
        return "archive"
    if window.startswith(b"MZ") and b"\x00" in window[:64]:
        return "executable"
    if window.startswith(b"%PDF"):
        return "pdf_truncated" if waiting or len(window) < 8 else "unknown_type"
    if b"%PDF-" in window:
        return "polyglot"
    if window.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text_encoding"
    if _MARKUP_START.match(window[3:] if window.startswith(_BOM) else window):
        return _MARKUP_CANDIDATE
    if declared is not Kind.TEXT and _looks_binary(window, final):
        return "unknown_type"
    return Kind.TEXT


def _looks_binary(window: bytes, final: bool) -> bool:
    if b"\x00" in window:
        return True
    try:
        codecs.utf_8_decode(window, "strict", final)
    except UnicodeDecodeError:
        # Latin-1 or CP1252 text has hardly any control character: it is a text, badly encoded.
        controls = len(window) - len(window.translate(None, _TEXT_CONTROLS))
        return controls * 100 > len(window)
    return False


# --- Scanners -------------------------------------------------------------------------------


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
        at = window.find(_EICAR)
        if at >= 0:
            self.report(base + at + len(_EICAR), "malware_test_signature")

    def find_zip(self, window: bytes, base: int) -> None:
        match = _ZIP.search(window)
        if match:
            self.report(base + match.end(), "polyglot")

    def close_zip(self) -> None:
        if b"PK\x05\x06" in self.last:
            self.report(self.end + 1, "polyglot")


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
        events: list[tuple[int, int, bytes]] = []
        for start, offset, name in _pdf_names(window, final):
            if name in _PDF_SEQUENTIAL and offset > 0:
                events.append((start, offset, name))
            else:
                self._name(base + abs(offset), name, escaped=offset < 0)
        events += ((m.start(), m.end() + 1, b"stream") for m in _PDF_STREAM.finditer(window))
        events += ((m.start(), m.end(), b"endobj") for m in _PDF_ENDOBJ.finditer(window))
        events.sort()
        self._walk(window, base, final, events)
        return self._cursor - 32

    def _name(self, offset: int, name: bytes, *, escaped: bool) -> None:
        code = "pdf_rich_media" if name.startswith(b"RichMedia") else _PDF_CODES.get(name)
        if code is None and escaped and name in (b"ObjStm", b"First"):
            code = "pdf_object_stream"
        if code in _PDF_FLAGS:
            self.flags.add(code)
        elif code is not None:
            self.report(offset, code)

    def _walk(
        self, window: bytes, base: int, final: bool, events: list[tuple[int, int, bytes]]
    ) -> None:
        end = base + len(window)
        position = self._cursor
        index = 0
        while True:
            if self._mode == _OUTSIDE:
                while index < len(events) and (
                    base + events[index][0] < position
                    or base + events[index][0] <= self._last_event
                ):
                    index += 1
                if index == len(events):
                    self._cursor = end if final else max(position, end - 64)
                    return
                start, offset, name = events[index]
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
                at = window.find(b"endstream", position - base)
                if at < 0:
                    self._cursor = end if final else max(position, end - 8)
                    return
                position = base + at + 9
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
        status, used = stream.feed(block, MAX_INFLATED - self._inflated)
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


def _pdf_names(window: bytes, final: bool) -> Iterator[tuple[int, int, bytes]]:
    """The watched names in a window: (start, offset where known, decoded name). The offset is
    negative for a name spelt with ``#xx`` escapes."""
    for match in _PDF_NAME.finditer(window):
        yield match.start(), match.end() + 1, match["name"]
    done = -1
    for escape in _PDF_ESCAPE.finditer(window):
        start = window.rfind(b"/", max(0, escape.start() - 64), escape.start())
        if start <= done:
            continue
        name = _PDF_ESCAPED_NAME.match(window, start)
        if name is None or name.end() <= escape.start():
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


def _skip(pattern: re.Pattern[bytes], data: bytes, at: int) -> int:
    """Where a pattern that may match nothing (white space, comments) ends."""
    match = pattern.match(data, at)
    return match.end() if match else at


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
