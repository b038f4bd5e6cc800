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

The package, one module per stage: ``verdicts`` (kinds, limits, rejection messages),
``sniffing`` (the kind from the first bytes), ``scanner`` (the scanners' base and the patterns
they share), ``text`` (text and CDA markup), ``images`` (JPEG, PNG), ``pdf`` (the PDF scanner
and its inflater), ``inspector`` (the ``Inspector`` that drives them) and ``beside`` (the
``StreamingInspection`` that runs it on a second thread for large uploads). Import from here.
"""

from dcc.documents.inspection.inspector import Inspector, inspect_bytes
from dcc.documents.inspection.verdicts import _MESSAGES as _MESSAGES
from dcc.documents.inspection.verdicts import (
    INFLATE_BLOCK,
    JPEG_PADDING,
    MAX_INFLATED,
    MIME,
    ROOT_WINDOW,
    SNIFF_BYTES,
    ZIP_REACH,
    Kind,
    RejectedContent,
    Verdict,
)

__all__ = [
    "INFLATE_BLOCK",
    "JPEG_PADDING",
    "MAX_INFLATED",
    "MIME",
    "ROOT_WINDOW",
    "SNIFF_BYTES",
    "ZIP_REACH",
    "Inspector",
    "Kind",
    "RejectedContent",
    "Verdict",
    "inspect_bytes",
]
