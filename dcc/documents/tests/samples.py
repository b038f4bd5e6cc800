"""Small, valid documents built in code for the tests (no binary fixtures)."""

from __future__ import annotations

import struct
import zlib


def pdf(text: str = "Compte rendu", padding: int = 0) -> bytes:
    """A minimal one-page PDF (valid xref), optionally padded with a comment."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return assemble_pdf(objects, padding=padding)


def assemble_pdf(objects: list[bytes], *, padding: int = 0) -> bytes:
    """A PDF file of ``objects`` (numbered from 1, the first one the catalogue), with a valid
    cross-reference table, optionally padded with a comment."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    if padding:
        out += b"%" + b"x" * padding + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


CDA = b"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.250.1.999.1" extension="doc-1"/>
  <code code="60568-3" codeSystem="2.16.840.1.113883.6.1"
        displayName="CR d'anatomie et de cytologie pathologiques"/>
  <title>Compte rendu d'anatomopathologie</title>
  <effectiveTime value="20261120101500+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <setId root="1.2.250.1.999.2" extension="set-1"/>
  <versionNumber value="1"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" extension="255069999999934"/>
    <patient><name><family>Test</family><given>Odile</given></name></patient>
  </patientRole></recordTarget>
  <component><structuredBody><component><section>
    <title>Conclusion</title>
    <text><paragraph>Carcinome canalaire infiltrant, grade II.</paragraph>
      <paragraph>&lt;script&gt;alert(1)&lt;/script&gt;</paragraph></text>
  </section></component></structuredBody></component>
</ClinicalDocument>
"""
