"""Sniffing: the candidate kind of a content, or its rejection, from a known signature at its
start, else from its first KiB."""

from __future__ import annotations

import codecs
import re

from dcc.documents.inspection.scanner import _BOM, _EICAR, _TEXT_CONTROLS
from dcc.documents.inspection.verdicts import SNIFF_BYTES, Kind

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
