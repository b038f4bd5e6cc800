"""Deciding an upload's type from its content (security goals E5–E7): every sample is built
here, and every verdict is checked whole and fed in pieces."""

from __future__ import annotations

import bz2
import copy
import gzip
import io
import itertools
import lzma
import struct
import tarfile
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterable, Iterator

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from dcc.documents import inspection
from dcc.documents.inspection import Inspector, Kind, RejectedContent, Verdict, inspect_bytes

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
MiB = 1024 * 1024

# --- Samples ---------------------------------------------------------------------------------


def pdf(*objects: bytes, trailer: bytes = b"", version: bytes = b"1.7") -> bytes:
    """A PDF with these objects numbered from 1, a cross-reference table and a trailer."""
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def flate(data: bytes, entries: bytes = b"") -> bytes:
    """A FlateDecode stream object."""
    packed = zlib.compress(data)
    head = b"<< /Length %d /Filter /FlateDecode %s>>" % (len(packed), entries)
    return head + b"\nstream\r\n" + packed + b"\nendstream"


def object_stream(*objects: bytes, entries: bytes = b"/Type /ObjStm ") -> bytes:
    """Objects 100, 101… packed in a compressed object stream."""
    offsets, body = [], b""
    for obj in objects:
        offsets.append(len(body))
        body += obj + b"\n"
    header = b" ".join(b"%d %d" % (100 + i, at) for i, at in enumerate(offsets)) + b"\n"
    counts = b"/N %d /First %d " % (len(objects), len(header))
    return flate(header + body, entries + counts)


PAGE_TEXT = b"1 0 0 1 0 0 cm BT /F1 12 Tf 72 720 Td (Compte rendu de RCP) Tj ET"
PAGES = (
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
    b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Arial#20Bold >> >> >> >>",
    flate(PAGE_TEXT),
)


def report(*extra: bytes, trailer: bytes = b"") -> bytes:
    """A one-page report, with more objects."""
    return pdf(*PAGES, *extra, trailer=trailer)


def image_stream(data: bytes) -> bytes:
    return (
        b"<< /Type /XObject /Subtype /Image /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream"
        % (
            len(data),
            data,
        )
    )


def png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG, chunk by chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes([40, 90, 200]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00scanner du service")
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def picture(fmt: str, size: tuple[int, int] = (16, 12)) -> bytes:
    """A real photograph-like image written by Pillow."""
    image = Image.new("RGB", size, (180, 120, 90))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


JPEG = picture("JPEG")


def zip_archive(*members: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def tar_archive() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        data = b"compte rendu"
        info = tarfile.TarInfo("cr.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


CDA = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    b'  <realmCode code="FR"/>\n  <title>Fiche RCP</title>\n'
    b"  <component><nonXMLBody><text>Synth\xc3\xa8se</text></nonXMLBody></component>\n"
    b"</ClinicalDocument>\n"
)
TEXT = "Patiente de 62 ans vue en RCP le 12 mars.\r\nDécision : chimiothérapie néoadjuvante.\n".encode()
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>\n'

# --- Helpers ---------------------------------------------------------------------------------


def pieces(data: bytes, sizes: Iterable[int]) -> Iterator[bytes]:
    """The data cut in pieces of these sizes (repeated), the last one shorter."""
    at = 0
    for size in itertools.cycle(sizes):
        if at >= len(data):
            return
        yield data[at : at + size]
        at += size


def outcome(
    data: bytes,
    sizes: Iterable[int] | None = None,
    *,
    declared: Kind | None = None,
    max_size: int | None = None,
) -> str:
    """The kind found, or the code of the rejection."""
    inspector = Inspector(declared=declared, max_size=max_size)
    try:
        for chunk in pieces(data, sizes or [len(data) or 1]):
            inspector.feed(chunk)
        verdict = inspector.finish()
    except RejectedContent as rejection:
        return rejection.code
    return str(verdict.kind)


def everywhere(data: bytes, *, declared: Kind | None = None) -> str:
    """The outcome, checked to be the same whole, byte by byte and in a few chunkings."""
    found = outcome(data, declared=declared)
    for sizes in ([1], [2, 3], [7], [64], [1000, 1], [4096]):
        assert outcome(data, sizes, declared=declared) == found, sizes
    return found


# --- Accepted contents -----------------------------------------------------------------------

ACCEPTED = {
    "a one-page PDF": (report(), Kind.PDF),
    "a PDF 2.0": (pdf(*PAGES, version=b"2.0"), Kind.PDF),
    "a PDF updated incrementally": (report() + b"% update\n%%EOF\r\n\r\n", Kind.PDF),
    "a PDF with harmless objects in an object stream": (
        report(
            object_stream(
                b"<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://rcp.example) >> >>"
            )
        ),
        Kind.PDF,
    ),
    "a PDF with an object stream found by its First entry": (
        report(object_stream(b"<< /Title (Annexe) >>", entries=b"")),
        Kind.PDF,
    ),
    "a PDF whose scanned image holds /JS by chance": (
        report(image_stream(b"\xff\xd8\xff\xe0 random /JS (bytes) \xff\xd9")),
        Kind.PDF,
    ),
    "a PDF with outlines before a scanned image": (
        report(
            b"<< /Type /Outlines /First 6 0 R /Last 6 0 R /Count 1 >>",
            image_stream(b"\xff\xd8\xff\xd9"),
        ),
        Kind.PDF,
    ),
    "a PDF whose stream data spells endstream": (
        report(image_stream(b"\x00endstream\x01")),
        Kind.PDF,
    ),
    "a PDF whose binary garbage spells /JS by chance": (
        b"%PDF-1.7\n" + bytes(range(128, 192)) + b"/JS " + bytes(range(192, 256)) + b"\n%%EOF\n",
        Kind.PDF,
    ),
    "a JPEG": (JPEG, Kind.JPEG),
    "a JPEG with a little padding": (JPEG + b"\x00" * 16, Kind.JPEG),
    "a PNG built chunk by chunk": (png(), Kind.PNG),
    "a PNG written by Pillow": (picture("PNG"), Kind.PNG),
    "a CDA": (CDA, Kind.CDA),
    "a CDA with a byte order mark": (b"\xef\xbb\xbf" + CDA, Kind.CDA),
    "a CDA with comments and an instruction before its root": (
        CDA.replace(b"\n<Clin", b"\n<!-- export du DPI -->\n<?dpi v2?>\n<!-- <b> -->\n<Clin", 1),
        Kind.CDA,
    ),
    "a CDA whose root has a namespace prefix": (
        b'<hl7:ClinicalDocument xmlns:hl7="urn:hl7-org:v3"><hl7:title/></hl7:ClinicalDocument>',
        Kind.CDA,
    ),
    "a CDA without XML declaration": (b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>', Kind.CDA),
    "a UTF-8 text": (TEXT, Kind.TEXT),
    "a UTF-8 text with a byte order mark, tabs and a form feed": (
        b"\xef\xbb\xbfNom\tPr\xc3\xa9nom\n\x0cPage 2\n",
        Kind.TEXT,
    ),
    "a text that mentions a <b>tag</b> and PK": (b"Voir <b>PK</b> 3 < 4 > 2\n", Kind.TEXT),
    "a one-letter text": (b"P", Kind.TEXT),
}


@pytest.mark.parametrize(("data", "kind"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_an_accepted_content_is_given_its_kind_and_mime_type(data: bytes, kind: Kind) -> None:
    verdict = inspect_bytes(data)
    assert verdict == Verdict(kind, inspection.MIME[kind], verdict.flags)
    assert everywhere(data) == kind
    assert outcome(data, declared=kind) == kind


def test_an_open_action_and_additional_actions_are_flagged_not_refused() -> None:
    data = report(b"<< /OpenAction [3 0 R /Fit] /AA << /O 9 0 R >> >>")
    assert inspect_bytes(data).flags == ("pdf_additional_actions", "pdf_open_action")
    hidden = report(object_stream(b"<< /OpenAction [3 0 R /Fit] >>"))
    assert inspect_bytes(hidden).flags == ("pdf_open_action",)


def test_a_cda_stylesheet_instruction_is_flagged() -> None:
    data = CDA.replace(b"?>\n", b'?>\n<?xml-stylesheet type="text/xsl" href="CDA_FR.xsl"?>\n', 1)
    assert inspect_bytes(data) == Verdict(Kind.CDA, "text/xml", ("xml_stylesheet",))


def test_a_plain_pdf_has_no_flag() -> None:
    assert inspect_bytes(report()) == Verdict(Kind.PDF, "application/pdf", ())


# --- Refused contents ------------------------------------------------------------------------

JS_ACTION = b"<< /S /JavaScript /JS (app.alert(1)) >>"
REFUSED = {
    # PDF active content
    "a PDF with JavaScript": (report(JS_ACTION), "pdf_javascript"),
    "a PDF with a JS key alone": (report(b"<< /JS 9 0 R >>"), "pdf_javascript"),
    "a PDF with a JS key after a binary string": (
        report(b"<< /T <FEFF004E> /K (\xfe\xff\x00N\x00o\x00m) /S /JavaScript /JS (x) >>"),
        "pdf_javascript",
    ),
    "a PDF with JavaScript spelt with an escape": (
        report(b"<< /S /J#61vaScript >>"),
        "pdf_javascript",
    ),
    "a PDF with JS spelt with escapes": (report(b"<< /#4a#53 (x) >>"), "pdf_javascript"),
    "a PDF with a JavaScript name tree": (
        report(b"<< /Names << /JavaScript 8 0 R >> >>"),
        "pdf_javascript",
    ),
    "a PDF with a launch action": (report(b"<< /S /Launch /F (cmd.exe) >>"), "pdf_launch"),
    "a PDF with an embedded file": (
        report(b"<< /Type /EmbeddedFile /Length 3 >>\nstream\nabc\nendstream"),
        "pdf_embedded_file",
    ),
    "a PDF with attached files": (report(b"<< /EmbeddedFiles 9 0 R >>"), "pdf_embedded_file"),
    "a PDF with rich media": (
        report(b"<< /Subtype /RichMedia /RichMediaContent 9 0 R >>"),
        "pdf_rich_media",
    ),
    "a PDF with an XFA form": (report(b"<< /Fields [] /XFA 9 0 R >>"), "pdf_xfa"),
    "an encrypted PDF": (report(trailer=b"/Encrypt 9 0 R /ID [<01> <01>] "), "pdf_encrypted"),
    # PDF objects hidden in object streams
    "a PDF with JavaScript in an object stream": (
        report(object_stream(JS_ACTION)),
        "pdf_javascript",
    ),
    "a PDF with JS in an object stream with no Type": (
        report(object_stream(b"<< /JS (x) >>", entries=b"")),
        "pdf_javascript",
    ),
    "a PDF with JavaScript in an undeclared object stream": (
        report(flate(b"100 0 " + JS_ACTION)),
        "pdf_javascript",
    ),
    "a PDF with a launch action in an object stream": (
        report(object_stream(b"<< /A 1 >>", b"<< /S /Launch >>")),
        "pdf_launch",
    ),
    "a PDF with an escaped JS name in an object stream": (
        report(object_stream(b"<< /J#53 (x) >>")),
        "pdf_javascript",
    ),
    "a PDF with an object stream that is not Flate": (
        report(
            b"<< /Type /ObjStm /N 1 /First 6 /Filter /ASCIIHexDecode >>\nstream\n3130302030\nendstream"
        ),
        "pdf_object_stream",
    ),
    "a PDF with an object stream behind a predictor": (
        report(
            flate(
                b"\x02" + b"100 0 " + JS_ACTION, b"/Type /ObjStm /DecodeParms << /Predictor 12 >> "
            )
        ),
        "pdf_object_stream",
    ),
    "a PDF with an object stream named with escapes": (
        report(flate(b"100 0 " + JS_ACTION, b"/Type /Obj#53tm ")),
        "pdf_object_stream",
    ),
    # PDF structure and polyglots
    "a PDF without its end": (report()[:-7], "pdf_truncated"),
    "a PDF followed by more than white space": (report() + b"garbage", "pdf_truncated"),
    "a PDF cut inside a compressed stream": (
        report(flate(b"100 0 << >> " * 100))[:-400],
        "pdf_truncated",
    ),
    "a PDF with a ZIP appended": (report() + zip_archive(("a.js", b"x")), "polyglot"),
    "a PDF holding a ZIP local header": (
        report(b"(PK\x03\x04\x14\x00\x00\x00\x08\x00 rest)"),
        "polyglot",
    ),
    "a PDF ending with a ZIP directory": (report() + b"PK\x05\x06" + b"\x01" * 18, "polyglot"),
    "a PDF with a web page in its first KiB": (
        report().replace(b"%\xe2\xe3\xcf\xd3", b"%<html><script>alert(1)</script>", 1),
        "polyglot",
    ),
    "a PDF header after other bytes": (b"GIF89a" + b"\x00" * 20 + report(), "unknown_type"),
    "a PDF header late in a text": (b"Bonjour\n" + report(), "polyglot"),
    "a PDF header cut short": (b"%PDF-1", "pdf_truncated"),
    # Web content, whatever the name
    "a web page": (HTML, "html"),
    "a web page after white space and a byte order mark": (
        b"\xef\xbb\xbf \r\n<html><body/></html>",
        "html",
    ),
    "a script": (b"<script>alert(1)</script>", "html"),
    "a web page fragment": (b"<div onclick='x()'>RCP</div>", "html"),
    "an SVG image": (SVG, "svg"),
    "an SVG image with a doctype": (
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n<svg/>',
        "svg",
    ),
    "an SVG image without declaration": (b"<svg><script>alert(1)</script></svg>", "svg"),
    # Images
    "a JPEG with a web page appended": (
        JPEG + b"<html><script>alert(1)</script></html>",
        "polyglot",
    ),
    "a JPEG with a script in a comment": (
        JPEG[:2] + b"\xff\xfe\x00\x20<script>alert(1)</script>      " + JPEG[2:],
        "polyglot",
    ),
    "a JPEG with a ZIP appended": (JPEG + zip_archive(("a.txt", b"x")), "polyglot"),
    "a JPEG that is also a PDF": (
        JPEG[:2] + b"\xff\xfe\x00\x10%PDF-1.4 obj  " + JPEG[2:],
        "polyglot",
    ),
    "a JPEG without its end": (JPEG[:-2], "image_truncated"),
    "a JPEG followed by a video": (
        JPEG + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4,
        "image_trailing_data",
    ),
    "a PNG without its end": (png()[:-12], "image_truncated"),
    "a PNG followed by more data": (png() + b"\x00" * 100, "image_trailing_data"),
    "a PNG with a ZIP appended": (png() + zip_archive(("a.txt", b"x")), "polyglot"),
    "a PNG with a broken chunk": (png()[:12] + b"IH?R" + png()[16:], "image_invalid"),
    "a PNG with a web page in a text chunk": (
        png().replace(b"scanner du service", b"<svg onload=x() >"),
        "polyglot",
    ),
    # Archives and programs
    "a ZIP archive": (zip_archive(("cr.pdf", report())), "archive"),
    "an Office document": (zip_archive(("[Content_Types].xml", b"<Types/>")), "archive"),
    "a gzip file": (gzip.compress(TEXT), "archive"),
    "a tar file": (tar_archive(), "archive"),
    "a bzip2 file": (bz2.compress(TEXT), "archive"),
    "an xz file": (lzma.compress(TEXT), "archive"),
    "a 7z file": (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24, "archive"),
    "a RAR file": (b"Rar!\x1a\x07\x01\x00" + b"\x00" * 24, "archive"),
    "a Windows program": (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"PE\x00\x00",
        "executable",
    ),
    "a Linux program": (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56, "executable"),
    "a macOS program": (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 24, "executable"),
    "a shell script": (b"#!/bin/sh\nrm -rf /\n", "executable"),
    # Antivirus test file
    "the EICAR test file": (EICAR, "malware_test_signature"),
    "the EICAR test string in a PDF": (report(b"(" + EICAR + b")"), "malware_test_signature"),
    "the EICAR test string far in a text": (TEXT * 100 + EICAR + b"\n", "malware_test_signature"),
    # XML
    "XML with a doctype": (
        b'<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument>\n' + CDA[22:],
        "xml_doctype",
    ),
    "XML with entities (billion laughs)": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;">\n]>\n'
        b'<ClinicalDocument xmlns="urn:hl7-org:v3">&lol2;</ClinicalDocument>',
        "xml_doctype",
    ),
    "XML with an external entity": (
        b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3">&xxe;</ClinicalDocument>',
        "xml_doctype",
    ),
    "a CDA with a doctype after its root": (
        CDA.replace(b"<title>", b"<!DOCTYPE x><title>"),
        "xml_doctype",
    ),
    "XML that is not a CDA": (
        b'<?xml version="1.0"?>\n<Bundle xmlns="http://hl7.org/fhir"/>',
        "cda_not_clinical_document",
    ),
    "a ClinicalDocument in another namespace": (
        b'<ClinicalDocument xmlns="urn:other"/>',
        "cda_not_clinical_document",
    ),
    "a ClinicalDocument without namespace": (b"<ClinicalDocument/>", "cda_not_clinical_document"),
    "XML whose root is too far": (
        b"<!--" + b"-" * (70 * 1024) + b"-->" + CDA[38:],
        "cda_not_clinical_document",
    ),
    "a CDA with a script": (
        CDA.replace(b"<title>", b"<script>alert(1)</script><title>"),
        "xml_active_content",
    ),
    "a CDA with XHTML": (
        CDA.replace(b"<title>", b'<x:b xmlns:x="http://www.w3.org/1999/xhtml"/><title>'),
        "xml_active_content",
    ),
    "a CDA with a javascript link": (
        CDA.replace(b"<title>", b'<linkHtml href="JavaScript:x()"/><title>'),
        "xml_active_content",
    ),
    "a CDA in Latin-1": (
        CDA.replace(b"UTF-8", b"ISO-8859-1").replace(b"\xc3\xa8", b"\xe8"),
        "text_encoding",
    ),
    "a CDA with a form feed": (CDA.replace(b"<title>", b"<title>\x0c"), "text_control"),
    # Text
    "a text in Latin-1": ("Décision : chimiothérapie.\n".encode("latin-1"), "text_encoding"),
    "a text in UTF-16": ("Décision\n".encode("utf-16"), "text_encoding"),
    "a text cut inside a character": (TEXT[:-3] + "é".encode()[:1], "text_encoding"),
    "a text with an escape sequence": (b"\x1b[31mrouge\x1b[0m\n", "text_control"),
    "a text with a C1 control": ("Note\u0085suite\n".encode(), "text_control"),
    "a text with a script far inside": (TEXT * 50 + b"<script src=x></script>", "html"),
    "a text with an SVG far inside": (TEXT * 50 + b"<svg/onload=alert(1)>", "svg"),
    "a text of white space only": (b" \r\n\t\n", "empty"),
    # Others
    "an empty file": (b"", "empty"),
    "binary data": (bytes(range(256)) * 8, "unknown_type"),
    "a GIF image": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "unknown_type"),
    "an RTF document": (b"{\\rtf1\\ansi Compte rendu}", "unknown_type"),
    "an Office 97 document": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "unknown_type"),
}


@pytest.mark.parametrize(("data", "code"), REFUSED.values(), ids=REFUSED.keys())
def test_a_refused_content_gets_its_code_whatever_the_chunking(data: bytes, code: str) -> None:
    with pytest.raises(RejectedContent) as raised:
        inspect_bytes(data)
    assert raised.value.code == code
    assert raised.value.message
    assert everywhere(data) == code


@pytest.mark.parametrize(
    ("data", "declared", "code"),
    [
        (HTML, Kind.PDF, "html"),
        (SVG, Kind.PDF, "svg"),
        (SVG, Kind.PNG, "svg"),
        (EICAR, Kind.PDF, "malware_test_signature"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 57, Kind.PDF, "executable"),
        (b"MZ\x90\x00" + b"\x00" * 60, Kind.JPEG, "executable"),
        (zip_archive(("a.pdf", b"%PDF-1.4")), Kind.PDF, "archive"),
        (b"Latin-1 \xe9t\xe9", Kind.TEXT, "text_encoding"),
        (b"NUL\x00inside", Kind.TEXT, "text_control"),
        (b"NUL\x00inside", Kind.PDF, "unknown_type"),
    ],
)
def test_dangerous_content_is_named_even_when_declared_as_something_else(
    data: bytes, declared: Kind, code: str
) -> None:
    assert outcome(data, declared=declared) == code
    assert outcome(data, [1], declared=declared) == code


@pytest.mark.parametrize(
    ("data", "declared", "found"),
    [
        (JPEG, Kind.PDF, "Le fichier n'est pas un PDF : son contenu est une image JPEG."),
        (report(), Kind.PNG, "Le fichier n'est pas une image PNG : son contenu est un PDF."),
        (CDA, Kind.TEXT, "Le fichier n'est pas un texte : son contenu est un document CDA."),
        (TEXT, Kind.CDA, "Le fichier n'est pas un document CDA : son contenu est un texte."),
        (png(), Kind.JPEG, "Le fichier n'est pas une image JPEG : son contenu est une image PNG."),
        (
            b"<Bundle/>",
            Kind.TEXT,
            "Le fichier n'est pas un texte : son contenu est un document XML.",
        ),
    ],
)
def test_a_declared_type_must_match_the_content(data: bytes, declared: Kind, found: str) -> None:
    with translation.override("fr"), pytest.raises(RejectedContent) as raised:
        inspect_bytes(data, declared=declared)
    assert (raised.value.code, raised.value.message) == ("type_mismatch", found)
    assert everywhere(data, declared=declared) == "type_mismatch"


def test_messages_are_french_sentences() -> None:
    with translation.override("fr"):
        messages = {code: str(text) for code, text in inspection._MESSAGES.items()}
    assert messages["empty"] == "Le fichier est vide."
    for code, message in messages.items():
        assert message[0].isupper() and message.endswith("."), code
        assert RejectedContent(code).message == message


def test_a_rejection_is_rebuilt_whole_like_pickle_does() -> None:
    rejection = RejectedContent("type_mismatch", "Le fichier n'est pas un PDF.")
    rebuilt = copy.deepcopy(rejection)  # through __reduce__, as pickle
    assert (rebuilt.code, rebuilt.message, str(rebuilt)) == (
        "type_mismatch",
        rejection.message,
        rejection.message,
    )


# --- Size limits -----------------------------------------------------------------------------


def test_exactly_the_maximum_size_is_accepted() -> None:
    data = TEXT * 10
    assert outcome(data, max_size=len(data)) == Kind.TEXT
    assert outcome(data, [7], max_size=len(data)) == Kind.TEXT


def test_one_byte_more_than_the_maximum_is_refused_by_the_feed_that_brings_it() -> None:
    data = TEXT * 10
    inspector = Inspector(max_size=len(data))
    inspector.feed(data[:-1])
    inspector.feed(data[-1:])
    with pytest.raises(RejectedContent) as raised:
        inspector.feed(b"!")
    assert raised.value.code == "too_large"
    with translation.override("fr"):
        assert "taille maximale" in RejectedContent("too_large").message
    assert inspector.size == len(data) + 1
    assert outcome(data + b"!", [1], max_size=len(data)) == "too_large"


def test_a_large_upload_is_refused_before_its_end() -> None:
    inspector = Inspector(declared=Kind.PDF, max_size=50 * MiB)
    inspector.feed(report()[:-10])
    block = b"\x00" * MiB
    with pytest.raises(RejectedContent, match="taille maximale"):
        for _ in range(51):
            inspector.feed(block)
    assert inspector.size <= 51 * MiB + len(report())


# --- Streaming behaviour ---------------------------------------------------------------------


def test_a_wrong_signature_is_refused_on_the_first_chunk() -> None:
    for first, code in [
        (b"\x7fELF\x02\x01\x01\x00", "executable"),
        (b"PK\x03\x04\x14\x00", "archive"),
        (JPEG[:64], "type_mismatch"),
    ]:
        with pytest.raises(RejectedContent) as raised:
            Inspector(declared=Kind.PDF).feed(first)
        assert raised.value.code == code


def test_javascript_is_refused_as_soon_as_it_arrives() -> None:
    data = report(JS_ACTION)
    inspector = Inspector()
    with pytest.raises(RejectedContent, match="JavaScript"):
        inspector.feed(data[: data.index(b"/JS") + 8])


def test_a_rejection_is_final() -> None:
    inspector = Inspector(declared=Kind.PDF)
    with pytest.raises(RejectedContent) as first:
        inspector.feed(b"<html><body></body></html>" * 100)
    for again in (lambda: inspector.feed(b"more"), inspector.finish):
        with pytest.raises(RejectedContent) as raised:
            again()
        assert raised.value is first.value


def test_finish_gives_the_same_verdict_and_ends_the_feeding() -> None:
    inspector = Inspector()
    inspector.feed(TEXT)
    assert inspector.finish() is inspector.finish()
    assert inspector.size == len(TEXT)
    with pytest.raises(ValueError, match="finished"):
        inspector.feed(b"more")


def test_empty_chunks_change_nothing() -> None:
    inspector = Inspector()
    for chunk in (b"", report(), b""):
        inspector.feed(chunk)
    assert inspector.finish().kind == Kind.PDF


def test_a_bomb_in_an_object_stream_stops_at_the_inflate_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inspection, "MAX_INFLATED", 4 * MiB)
    bomb = report(object_stream(b"<< /Fill (" + b"0" * (8 * MiB) + b") >>"))
    assert len(bomb) < 64 * 1024
    assert everywhere(bomb) == "pdf_inflate_limit"


def test_short_names_count_outside_stream_data_only_wherever_the_streams_end() -> None:
    # Several streams in one chunk: the walk leaves stream data and enters it again, and the
    # short names, stream and endobj keywords are looked for from where it stands each time.
    noise = b"\x00\xff\x17 /JS /AA >>\nstream\n endobj /ObjStm \x01" * 3
    scanned = b"".join(
        b"%d 0 obj\n%s\nendobj\n" % (number, image_stream(noise + b"%d" % number))
        for number in range(10, 14)
    )
    assert everywhere(report(scanned)) == Kind.PDF
    later = scanned + b"20 0 obj\n<< /JS (x) >>\nendobj\n"
    assert everywhere(report(later)) == "pdf_javascript"
    flagged = Inspector()
    flagged.feed(report(scanned + b"20 0 obj\n<< /AA 21 0 R >>\nendobj\n"))
    assert flagged.finish().flags == ("pdf_additional_actions",)


SAMPLES = [data for data, _ in ACCEPTED.values()] + [data for data, _ in REFUSED.values()]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.sampled_from(SAMPLES), sizes=st.lists(st.integers(1, 300), min_size=1, max_size=8))
def test_any_chunking_gives_the_same_outcome(data: bytes, sizes: list[int]) -> None:
    assert outcome(data, sizes) == outcome(data)


FORBIDDEN = [b"/JavaScript", b"/J#61vaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/XFA"]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(FORBIDDEN),
    split=st.integers(1, 12),
    sizes=st.lists(st.integers(1, 64), min_size=1, max_size=4),
    padding=st.integers(0, 300),
)
def test_a_keyword_split_across_chunks_is_still_found(
    name: bytes, split: int, sizes: list[int], padding: int
) -> None:
    data = report(b"<< /Comment (" + b"." * padding + b") " + name + b" (x) >>")
    expected = outcome(data)
    assert expected.startswith("pdf_")
    at = data.index(name) + min(split, len(name) - 1)
    inspector = Inspector()
    with pytest.raises(RejectedContent) as raised:
        inspector.feed(data[:at])
        for chunk in pieces(data[at:], sizes):
            inspector.feed(chunk)
        inspector.finish()
    assert raised.value.code == expected


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(8, len(report(flate(b"100 0 << >> " * 200))) - 7))
def test_a_pdf_cut_anywhere_is_truncated(cut: int) -> None:
    assert outcome(report(flate(b"100 0 << >> " * 200))[:cut]) == "pdf_truncated"


PREFIXES = [
    b"%PDF-1.4\n",
    b"\xff\xd8\xff\xe0",
    b"\x89PNG\r\n\x1a\n",
    b"<?xml version='1.0'?>",
    b"",
    b"\xef\xbb\xbf",
]
MIXINS = [
    b"/JS ",
    b"/J#53 ",
    b"/AA ",
    b"/ObjStm ",
    b"/First ",
    b">>\nstream\n",
    b">>\nstream\r\nx\x9c",
    b"endstream",
    b"endobj",
    b"%%EOF\n",
    b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
    b"<svg ",
    b"<!DOCTYPE html>",
    b"<ClinicalDocument xmlns='urn:hl7-org:v3'>",
    b"\x00",
    b"\xc3",
    b"\xff\xd9",
    EICAR,
    zlib.compress(b"100 0 << /JS (x) >>"),
    zlib.compress(b"1 0 0 1 0 0 cm BT /JS 1 Tf ET"),
]


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(PREFIXES),
    parts=st.lists(st.one_of(st.sampled_from(MIXINS), st.binary(max_size=40)), max_size=12),
    sizes=st.lists(st.integers(1, 200), min_size=1, max_size=6),
    max_size=st.none() | st.integers(1, 600),
)
def test_arbitrary_mixtures_give_the_same_outcome_whatever_the_chunking(
    prefix: bytes, parts: list[bytes], sizes: list[int], max_size: int | None
) -> None:
    data = prefix + b"".join(parts)
    assert outcome(data, sizes, max_size=max_size) == outcome(data, max_size=max_size)


# --- Memory and speed ------------------------------------------------------------------------


def scanned_pages() -> bytes:
    """About 1 MiB of a scanned PDF's body: photographed pages and their page contents."""
    image = zlib.compress(bytes(range(256)) * 64, 0)[:16384] * 55  # incompressible-looking
    out = bytearray()
    for number in range(1, 2000):
        content = flate(b"q 595 0 0 842 0 0 cm /Im%d Do Q" % number)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, image_stream(image[: 20_000 + number % 7]))
        out += b"%d 0 obj\n%s\nendobj\n" % (number + 5000, content)
        if len(out) > MiB:
            return bytes(out)
    return bytes(out)


def test_a_300_mb_pdf_is_inspected_in_bounded_memory() -> None:
    body = scanned_pages()
    total = 300 * MiB
    inspector = Inspector(declared=Kind.PDF)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        inspector.feed(b"%PDF-1.7\n")
        for _ in range(total // len(body)):
            inspector.feed(body)
        inspector.feed(report()[9:])
        verdict = inspector.finish()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert verdict.kind == Kind.PDF
    assert inspector.size > 299 * MiB
    assert peak < 8 * MiB, peak
    assert elapsed < 30, elapsed


def test_a_300_mb_text_is_inspected_in_bounded_memory() -> None:
    block = TEXT * (MiB // len(TEXT))
    inspector = Inspector()
    tracemalloc.start()
    try:
        for _ in range(300):
            inspector.feed(block)
        verdict = inspector.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert verdict.kind == Kind.TEXT
    assert peak < 8 * MiB, peak
