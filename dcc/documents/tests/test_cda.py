"""The safe CDA reader: hostile XML is refused, headers are read, narratives render safely.

Our own samples live in ``cda_samples/`` and inline below; the official CI-SIS examples in
``../shared/ci-sis/examples`` are used when that folder exists (it is not shipped to users).
"""

from __future__ import annotations

import html
import io
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import lxml.html  # type: ignore[import-untyped]
import pytest
from django.utils.safestring import SafeString
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from dcc.documents.cda import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_SIZE,
    MAX_DEPTH_CEILING,
    CdaError,
    parse_cda,
    parse_hl7_time,
    render_html,
    summarise,
)

SAMPLES = Path(__file__).parent / "cda_samples"
SHARED = Path(__file__).resolve().parents[3].parent / "shared"
EXAMPLES = SHARED / "ci-sis" / "examples"
CDA_XSD = SHARED / "ci-sis" / "infrastructure" / "cda" / "CDA_extended.xsd"

HL7 = "urn:hl7-org:v3"
XHTML = "http://www.w3.org/1999/xhtml"
SVG = "http://www.w3.org/2000/svg"
PARIS_SUMMER = timezone(timedelta(hours=2))
PARIS_WINTER = timezone(timedelta(hours=1))

# The allow-list as this test understands it, written out independently of the module.
HTML_TAGS = {
    "article", "header", "section", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd",
    "div", "p", "span", "br", "sub", "sup", "ul", "ol", "li", "table", "caption", "colgroup",
    "col", "thead", "tbody", "tfoot", "tr", "th", "td",
}  # fmt: skip
CSS_CLASSES = {
    "cda-document", "cda-header", "cda-title", "cda-meta", "cda-section", "cda-narrative",
    "cda-note", "cda-bold", "cda-italics", "cda-underline", "cda-emphasis", "cda-inserted",
    "cda-deleted", "cda-caption", "cda-footnote", "cda-footnote-ref", "cda-link",
    "cda-link-href", "cda-placeholder",
}  # fmt: skip
TAG = re.compile(
    r'</?([a-z][a-z0-9]*)((?: class="[a-z -]+"| colspan="[0-9]+"| rowspan="[0-9]+")*)>'
)
ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27);")


def assert_safe_html(fragment: str) -> None:
    """Every ``<`` opens an allowed tag, every ``&`` an entity, and the parsed tree agrees."""
    for match in re.finditer("[<&]", fragment):
        if match.group() == "<":
            tag = TAG.match(fragment, match.start())
            assert tag is not None, fragment[match.start() : match.start() + 80]
            assert tag.group(1) in HTML_TAGS, tag.group()
        else:
            assert ENTITY.match(fragment, match.start()), fragment[
                match.start() : match.start() + 20
            ]
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for element in root.iter():
        assert isinstance(element.tag, str), "no comment or processing instruction"
        assert element.tag in HTML_TAGS, element.tag
        for name, value in element.attrib.items():
            assert name in {"class", "colspan", "rowspan"}, name
            if name == "class":
                assert set(value.split()) <= CSS_CLASSES, value
            else:
                assert value.isdigit(), value
    lowered = fragment.lower()
    for active in ("<script", "<style", "<iframe", "<object", "<embed", "<a ", "<img", "<svg"):
        assert active not in lowered


def text_of(fragment: str) -> str:
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return " ".join(root.text_content().split())


def headings(fragment: str) -> list[str]:
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return [
        " ".join(element.text_content().split())
        for element in root.iter("h1", "h2", "h3", "h4", "h5", "h6")
    ]


HEADER = """
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.250.1.999.1" extension="DOC-1"/>
  <code code="34794-8" codeSystem="2.16.840.1.113883.6.1" displayName="Fiche RCP"/>
  <title>{title}</title>
  <effectiveTime value="{effective_time}"/>
  <confidentialityCode code="R" codeSystem="2.16.840.1.113883.5.25"/>
  <setId root="1.2.250.1.999.2" extension="SET-1"/>
  <versionNumber value="3"/>
  <recordTarget><patientRole><id root="1.2.250.1.999.9" extension="IPP-1"/></patientRole></recordTarget>
"""


def cda(
    narrative: str = "<paragraph>Texte.</paragraph>",
    *,
    title: str = "Fiche de test",
    effective_time: str = "20240614143000+0200",
) -> bytes:
    """A small CDA document with one section whose ``text`` holds ``narrative``."""
    header = HEADER.format(title=title, effective_time=effective_time)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="{HL7}">'
        f"{header}<component><structuredBody><component><section><title>Section de test</title>"
        f"<text>{narrative}</text></section></component></structuredBody></component>"
        "</ClinicalDocument>"
    ).encode()


def error_code(call: Callable[[], object]) -> str:
    with pytest.raises(CdaError) as caught:
        call()
    assert caught.value.message  # A French sentence for the user.
    return caught.value.code


# --- Our own samples ---------------------------------------------------------------------------


def test_a_structured_sample_renders_its_header_and_every_section() -> None:
    fragment = render_html((SAMPLES / "fiche_rcp.xml").read_bytes())
    assert isinstance(fragment, SafeString)
    assert_safe_html(fragment)
    assert headings(fragment) == [
        "Fiche RCP sénologie – Hôpital des Tilleuls",
        "Motif de présentation",
        "Antécédents",
        "Imagerie",
        "Proposition de la RCP",
    ]
    assert "<h3>Antécédents</h3>" in fragment and "<h4>Imagerie</h4>" in fragment
    text = text_of(fragment)
    assert "14/06/2024 14:30 (UTC+02:00)" in text
    assert "Camille EXEMPLE, né(e) le 12/05/1969" in text
    assert "INS (NIR de test) : 255069999999934" in text
    assert "IPP-000123 (1.2.250.1.999.1.9)" in text
    assert "Alix MARTIN (Hôpital des Tilleuls)" in text
    assert "3C des Tilleuls" in text
    assert "Score < 3 & avis « urgent »." in text
    assert '<span class="cda-bold">stratégie adjuvante</span>' in fragment
    assert '<td class="cda-underline">Radiothérapie puis hormonothérapie</td>' in fragment
    assert '<th colspan="2">' in fragment and '<td rowspan="2">' in fragment
    assert "<caption>Décision</caption>" in fragment
    assert '<p class="cda-caption">Par ordre chronologique</p><ol>' in fragment
    assert '<span class="cda-footnote">[1] Précisé par la secrétaire de RCP.</span>' in fragment
    assert '<sup class="cda-footnote-ref">[1]</sup>' in fragment
    assert "[contenu multimédia non affiché]" in text
    assert "étude 77 (https://pacs.exemple.fr/etude/77)" in text
    assert "iVBORw0KGgo" not in fragment
    assert "image-1" not in fragment and "note-1" not in fragment  # No document IDs.
    assert "feuille-de-style" not in fragment


def test_a_structured_sample_is_summarised() -> None:
    summary = summarise((SAMPLES / "fiche_rcp.xml").read_bytes())
    assert summary.title == "Fiche RCP sénologie – Hôpital des Tilleuls"
    assert (summary.type_code, summary.type_system) == ("34794-8", "2.16.840.1.113883.6.1")
    assert summary.type_display == "CR de réunion de concertation pluridisciplinaire"
    assert summary.effective_time == datetime(2024, 6, 14, 14, 30, tzinfo=PARIS_SUMMER)
    assert isinstance(summary.effective_time, datetime)
    assert summary.effective_time.utcoffset() == timedelta(hours=2)
    assert summary.document_id == "1.2.250.1.999.1.2.3^FRCP-2024-0042"
    assert summary.set_id == "1.2.250.1.999.1.2.3^FRCP-2024-SET-7"
    assert summary.version == 2
    assert summary.confidentiality == "N"
    assert summary.patient_ids == (
        "1.2.250.1.213.1.4.10^255069999999934",
        "1.2.250.1.999.1.9^IPP-000123",
    )
    assert summary.authors == ("Alix MARTIN",)
    assert summary.non_xml_body is None


def test_an_unstructured_document_announces_its_attachment_without_decoding_it() -> None:
    data = (SAMPLES / "document_pdf.xml").read_bytes()
    summary = summarise(data)
    assert summary.non_xml_body == ("application/pdf", "B64")
    assert summary.effective_time == date(2024, 1, 2)
    assert summary.document_id == "1.2.250.1.999.4.5.6"
    assert summary.version == 1
    assert summary.authors == ("Noé BERNARD",)
    fragment = render_html(data)
    assert_safe_html(fragment)
    assert "fichier joint de type application/pdf" in text_of(fragment)
    assert "JVBERi0" not in fragment


def test_a_self_presenting_document_is_read_without_running_its_stylesheet() -> None:
    data = (SAMPLES / "autopresentable.xml").read_bytes()
    assert etree.QName(parse_cda(data)).localname == "ClinicalDocument"
    summary = summarise(data)
    assert summary.title == "Programme personnalisé de soins"
    assert summary.effective_time == datetime(2024, 3, 1, 10, 15)  # noqa: DTZ001 - no offset given
    assert summary.patient_ids == ("1.2.250.1.999.1.9^IPP-000789",)
    fragment = render_html(data)
    assert_safe_html(fragment)
    assert headings(fragment) == ["Programme personnalisé de soins", "Calendrier des soins"]
    assert "alert" not in fragment and "feuille de style" not in fragment


def test_a_stylesheet_without_an_embedded_clinical_document_is_not_cda() -> None:
    data = (
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        b'<xsl:template match="/"><html/></xsl:template></xsl:stylesheet>'
    )
    assert error_code(lambda: parse_cda(data)) == "not_cda"


@pytest.mark.skipif(not CDA_XSD.is_file(), reason="../shared/ci-sis is not available")
@pytest.mark.parametrize("name", ["fiche_rcp.xml", "document_pdf.xml"])
def test_our_samples_are_valid_cda(name: str) -> None:
    # Trusted local files: the official schema and our own samples.
    schema = etree.XMLSchema(etree.parse(str(CDA_XSD)))  # noqa: S320
    assert schema.validate(etree.parse(str(SAMPLES / name))), schema.error_log  # noqa: S320


def test_the_document_title_and_sections_follow_the_requested_heading_level() -> None:
    fragment = render_html((SAMPLES / "fiche_rcp.xml").read_bytes(), heading_level=1)
    assert '<h1 class="cda-title">' in fragment
    assert "<h2>Motif de présentation</h2>" in fragment and "<h3>Imagerie</h3>" in fragment


def test_a_document_without_a_body_says_so() -> None:
    full = cda()
    fragment = render_html(full[: full.index(b"<component>")] + b"</ClinicalDocument>")
    assert_safe_html(fragment)
    assert "pas de contenu affichable" in fragment


def test_header_values_are_escaped() -> None:
    fragment = render_html(cda(title="&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"))
    assert_safe_html(fragment)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in fragment


# --- Times -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20190218094914+0100", datetime(2019, 2, 18, 9, 49, 14, tzinfo=PARIS_WINTER)),
        (
            "20240614143000-0330",
            datetime(2024, 6, 14, 14, 30, tzinfo=timezone(-timedelta(hours=3, minutes=30))),
        ),
        ("20240614", date(2024, 6, 14)),
        ("20240614+0200", date(2024, 6, 14)),
        ("202406141430", datetime(2024, 6, 14, 14, 30)),  # noqa: DTZ001 - no offset given
        ("20240614143005.25+0000", datetime(2024, 6, 14, 14, 30, 5, 250000, tzinfo=UTC)),
        (" 2024061414 ", datetime(2024, 6, 14, 14)),  # noqa: DTZ001 - no offset given
        ("202406", None),
        ("2024", None),
        ("20241314", None),
        ("20240614256000", None),
        ("20240614143000+0275", None),
        ("202406141430.5", None),
        ("", None),
        ("hier", None),
    ],
)
def test_hl7_times_are_read_with_their_precision_and_offset(
    value: str, expected: datetime | date | None
) -> None:
    parsed = parse_hl7_time(value)
    assert parsed == expected
    assert type(parsed) is type(expected)
    if isinstance(expected, datetime):
        assert isinstance(parsed, datetime) and parsed.tzinfo == expected.tzinfo


def test_an_inline_sample_is_summarised() -> None:
    summary = summarise(cda(effective_time="20191027023000+0100"))
    assert summary.effective_time == datetime(2019, 10, 27, 2, 30, tzinfo=PARIS_WINTER)
    assert summary.document_id == "1.2.250.1.999.1^DOC-1"
    assert (summary.set_id, summary.version) == ("1.2.250.1.999.2^SET-1", 3)
    assert summary.confidentiality == "R"
    assert summary.patient_ids == ("1.2.250.1.999.9^IPP-1",)
    assert summary.authors == ()


# --- Hostile narratives ------------------------------------------------------------------------


XSS_NARRATIVES = {
    "script element": "<paragraph>avant<script>alert(1)</script>après</paragraph>",
    "xhtml script": f'<x:script xmlns:x="{XHTML}">alert(2)</x:script><x:img xmlns:x="{XHTML}" src="x" onerror="alert(3)"/>',
    "event handlers": '<paragraph onload="alert(4)" onclick="alert(5)">texte</paragraph><table onmouseover="alert(6)"><tbody><tr><td onclick="alert(7)">a</td></tr></tbody></table>',
    "javascript link": '<linkHtml href="javascript:alert(8)">cliquer</linkHtml><linkHtml href=" JaVaScRiPt:alert(9)"/><linkHtml href="data:text/html,&lt;script&gt;alert(10)&lt;/script&gt;">d</linkHtml>',
    "cdata markup": "<paragraph><![CDATA[<script>alert(11)</script><img src=x onerror=alert(12)>]]></paragraph>",
    "style attributes": '<content style="background:url(javascript:alert(13))" styleCode="Bold xFoo expression(alert(14))">gras</content>',
    "svg": f'<svg xmlns="{SVG}" onload="alert(15)"><script>alert(16)</script></svg>',
    "unknown hl7 elements": '<iframe src="https://evil.example/"/><object data="x"/><style>body{}</style><a href="javascript:alert(17)">lien</a>',
    "ids and classes": '<content ID="secret-id" class="admin" lang="fr" xml:lang="fr">id</content>',
    "spans": '<table><tbody><tr><td colspan="2 onclick=alert(18)" rowspan="-1">x</td><td colspan="99999999">y</td></tr></tbody></table>',
    "escaped markup in text": "<paragraph>&lt;script&gt;alert(19)&lt;/script&gt; &amp;lt; &quot;'</paragraph>",
}


@pytest.mark.parametrize("narrative", XSS_NARRATIVES.values(), ids=XSS_NARRATIVES.keys())
def test_nothing_active_survives_a_hostile_narrative(narrative: str) -> None:
    fragment = render_html(cda(narrative))
    assert_safe_html(fragment)
    assert "javascript:" not in fragment.lower()
    assert "data:text/html" not in fragment
    assert "secret-id" not in fragment and "admin" not in fragment
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", fragment)  # Inside a tag.


def test_hostile_text_stays_visible_as_text() -> None:
    fragment = render_html(cda(XSS_NARRATIVES["cdata markup"] + XSS_NARRATIVES["script element"]))
    assert "&lt;script&gt;alert(11)&lt;/script&gt;&lt;img src=x onerror=alert(12)&gt;" in fragment
    assert "avantalert(1)après" in text_of(fragment)


def test_only_web_addresses_of_links_are_shown_and_never_as_links() -> None:
    fragment = render_html(
        cda(
            '<linkHtml href="https://exemple.fr/a?b=1&amp;c=2">compte rendu</linkHtml>'
            '<linkHtml href="http://exemple.fr/">http://exemple.fr/</linkHtml>'
            '<linkHtml href="file:///etc/passwd">fichier</linkHtml>'
        )
    )
    assert_safe_html(fragment)
    assert "compte rendu (https://exemple.fr/a?b=1&c=2)" in text_of(fragment)
    assert '<span class="cda-link-href">(https://exemple.fr/a?b=1&amp;c=2)</span>' in fragment
    assert fragment.count("http://exemple.fr/") == 1
    assert "fichier" in fragment and "file:" not in fragment


def test_style_codes_map_to_a_few_classes_only() -> None:
    fragment = render_html(
        cda(
            '<content styleCode="Bold Italics">a</content><content styleCode="underline emphasis">'
            'b</content><content styleCode="xRed Lrule">c</content><content revised="delete">d'
            "</content>"
        )
    )
    assert '<span class="cda-bold cda-italics">a</span>' in fragment
    assert '<span class="cda-underline cda-emphasis">b</span>' in fragment
    assert "<span>c</span>" in fragment
    assert '<span class="cda-deleted">d</span>' in fragment


def test_lists_and_nested_sections_render_in_order() -> None:
    data = cda(
        '<list><item>un</item><item>deux</item></list><list listType="ordered"><item>premier'
        "</item></list>"
    ).replace(
        b"</text></section>",
        b"</text><component><section><title>Sous-section</title><component><section>"
        b"<code code='1' displayName='Titre issu du code'/><text>profond</text></section>"
        b"</component></section></component></section>",
    )
    fragment = render_html(data)
    assert_safe_html(fragment)
    assert "<ul><li>un</li><li>deux</li></ul><ol><li>premier</li></ol>" in fragment
    assert headings(fragment)[1:] == ["Section de test", "Sous-section", "Titre issu du code"]
    assert "<h5>Titre issu du code</h5>" in fragment


# --- Hostile XML -------------------------------------------------------------------------------


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """A local port that records whether anything tried to connect."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def assert_nobody_connected(server: socket.socket) -> None:
    time.sleep(0.05)
    with pytest.raises(BlockingIOError):
        server.accept()


def test_an_external_entity_is_refused_without_reading_the_file(tmp_path: Path) -> None:
    # A FIFO blocks whoever opens it for reading until a writer comes: if the parser tried to
    # read the "file", the call below would hang instead of returning.
    fifo = tmp_path / "passwd"
    os.mkfifo(fifo)
    data = (
        f'<?xml version="1.0"?><!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file://{fifo}">]>'
        f'<ClinicalDocument xmlns="{HL7}"><title>&xxe;</title></ClinicalDocument>'
    ).encode()
    codes: list[str] = []

    def attempt() -> None:
        for call in (parse_cda, summarise, render_html):
            try:
                call(data)
            except CdaError as exc:
                codes.append(exc.code)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # Free the reader.
        pytest.fail("the parser opened the external entity's file")
    assert codes == ["doctype", "doctype", "doctype"]


def test_the_classic_passwd_entity_is_refused() -> None:
    data = (
        '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<ClinicalDocument xmlns="{HL7}"><title>&xxe;</title></ClinicalDocument>'
    ).encode()
    assert error_code(lambda: render_html(data)) == "doctype"


def test_external_dtds_and_parameter_entities_make_no_request(
    listening_socket: socket.socket,
) -> None:
    url = f"http://127.0.0.1:{listening_socket.getsockname()[1]}/x.dtd"
    payloads = [
        f'<!DOCTYPE ClinicalDocument SYSTEM "{url}"><ClinicalDocument xmlns="{HL7}"/>',
        f'<!DOCTYPE ClinicalDocument PUBLIC "-//X//Y" "{url}"><ClinicalDocument xmlns="{HL7}"/>',
        f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{url}"> %p;]><ClinicalDocument xmlns="{HL7}"/>',
        f'<!DOCTYPE d [<!ENTITY e SYSTEM "{url}">]><ClinicalDocument xmlns="{HL7}">&e;</ClinicalDocument>',
    ]
    for payload in payloads:
        with pytest.raises(CdaError) as caught:
            summarise(payload.encode())
        assert caught.value.code == "doctype"
    assert_nobody_connected(listening_socket)


def test_billion_laughs_is_refused_at_once() -> None:
    entities = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10 if n else "ha"}">' for n in range(10))
    data = (
        f'<?xml version="1.0"?><!DOCTYPE d [{entities}]>'
        f'<ClinicalDocument xmlns="{HL7}"><title>&l9;</title></ClinicalDocument>'
    ).encode()
    started = time.perf_counter()
    assert error_code(lambda: render_html(data)) == "doctype"
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE ClinicalDocument><ClinicalDocument xmlns="urn:hl7-org:v3"/>',
        b'<!-- x --><?pi x?><!DOCTYPE ClinicalDocument []><ClinicalDocument xmlns="urn:hl7-org:v3"/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE c [<!ENTITY a "b">]><c/>'.encode(
            "utf-16"
        ),
        b'<!DOCTYPE xsl:stylesheet [<!ENTITY a "b">]><xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>',
    ],
    ids=["bare", "after comments", "utf-16", "self-presenting"],
)
def test_any_doctype_is_refused(data: bytes) -> None:
    assert error_code(lambda: parse_cda(data)) == "doctype"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "not_xml"),
        (b"%PDF-1.4 ceci n'est pas du XML", "not_xml"),
        (b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title></ClinicalDocument>', "not_xml"),
        (b'<ClinicalDocument xmlns="urn:hl7-org:v3">&undefined;</ClinicalDocument>', "not_xml"),
        (b'<?xml version="1.0"?><!-- rien -->', "not_xml"),
        (b"<html><body>bonjour</body></html>", "not_cda"),
        (b"<ClinicalDocument/>", "not_cda"),
        (b'<ClinicalDocument xmlns="urn:hl7-org:v2"/>', "not_cda"),
        (b'<Bundle xmlns="http://hl7.org/fhir"/>', "not_cda"),
    ],
    ids=[
        "empty", "pdf", "unclosed", "undefined entity", "no element", "html",
        "no namespace", "wrong namespace", "fhir",
    ],
)  # fmt: skip
def test_what_is_not_a_cda_document_is_refused_with_a_code(data: bytes, code: str) -> None:
    assert error_code(lambda: summarise(data)) == code


def nested_sections(depth: int) -> bytes:
    """The inline sample with ``depth`` sections nested under its section (two levels each)."""
    opening = "<component><section><title>niveau</title>" * depth
    closing = "</section></component>" * depth
    return cda().replace(b"</text></section>", f"</text>{opening}{closing}</section>".encode())


@pytest.mark.parametrize("depth", [60, 1000])
def test_sections_nested_beyond_the_limit_are_refused(depth: int) -> None:
    data = nested_sections(depth)
    assert error_code(lambda: render_html(data)) == "too_deep"


def depth_of(data: bytes) -> int:
    """The nesting depth of a trusted document, counted without the module under test."""
    deepest = depth = 0
    for event, _ in etree.iterparse(io.BytesIO(data), events=("start", "end")):  # noqa: S320
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest


def test_the_depth_limit_is_a_parameter_and_its_bound_is_inclusive() -> None:
    data = nested_sections(20)
    assert "niveau" in render_html(data)
    depth = depth_of(data)
    assert parse_cda(data, max_depth=depth) is not None
    assert error_code(lambda: parse_cda(data, max_depth=depth - 1)) == "too_deep"
    assert DEFAULT_MAX_DEPTH == 100
    for unsafe in (0, MAX_DEPTH_CEILING + 1):
        with pytest.raises(ValueError):
            parse_cda(data, max_depth=unsafe)


def test_markup_nested_up_to_the_highest_limit_renders_without_exhausting_the_stack() -> None:
    levels = MAX_DEPTH_CEILING - depth_of(cda("<paragraph/>"))
    nested = "<linkHtml href='https://exemple.fr/'>" * levels + "x" + "</linkHtml>" * levels
    data = cda(f"<paragraph>{nested}</paragraph>")
    assert depth_of(data) == MAX_DEPTH_CEILING
    fragment = render_html(data, max_depth=MAX_DEPTH_CEILING)
    assert_safe_html(fragment)
    assert fragment.count("cda-link-href") == levels


def test_deep_narrative_markup_is_refused_too() -> None:
    data = cda("<content>" * 200 + "x" + "</content>" * 200)
    assert error_code(lambda: summarise(data)) == "too_deep"


def test_input_over_the_size_limit_is_refused_before_parsing() -> None:
    assert DEFAULT_MAX_SIZE == 20 * 1024 * 1024
    data = cda()
    assert error_code(lambda: parse_cda(data, max_size=len(data) - 1)) == "too_large"
    assert parse_cda(data, max_size=len(data)) is not None
    oversized = b"<" + b" " * DEFAULT_MAX_SIZE
    assert error_code(lambda: summarise(oversized)) == "too_large"


def test_a_str_instead_of_bytes_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        parse_cda(cda().decode())  # type: ignore[arg-type]


def test_rendering_time_grows_linearly() -> None:
    def document(sections: int) -> bytes:
        narrative = (
            ("<paragraph>" + "<content styleCode='Bold'>" * 40 + "a &amp; b" + "</content>" * 40)
            + "<linkHtml href='https://exemple.fr/'>" * 20
            + "lien"
            + "</linkHtml>" * 20
        )
        narrative += "</paragraph><table><tbody>" + "<tr><td>x</td><td>y</td></tr>" * 20
        narrative += "</tbody></table>"
        section = (
            f"<component><section><title>S</title><text>{narrative}</text></section></component>"
        )
        return cda().replace(b"<structuredBody>", b"<structuredBody>" + section.encode() * sections)

    def best_time(data: bytes) -> float:
        # CPU time of this process, best of five: other processes on a loaded machine (CI runs
        # two suites side by side) barely move it, unlike the wall clock.
        timings = []
        for _ in range(5):
            started = time.process_time()
            render_html(data)
            timings.append(time.process_time() - started)
        return min(timings)

    small, large = document(100), document(400)
    ratio = best_time(large) / best_time(small)
    assert ratio < 10, ratio  # Four times the input; quadratic would be about 16.


# --- Official CI-SIS examples (only where ../shared exists) ------------------------------------


OFFICIAL = {
    "CANCER-FRCP_2022.01_Appareil.xml": (
        "FRCP ONCO PAYS DE LA LOIRE / 3C CHU Angers / Sein",
        "34794-8",
        "1.2.250.1.213.1.1.1.8.2022.1",
    ),
    "CANCER-FRCP_2022.01_Transversale.xml": (
        "FRCP ONCO PAYS DE LA LOIRE / 3C CHU Angers / Soins de support",
        "34794-8",
        "1.2.250.1.213.1.1.1.8.2022.2",
    ),
    "CANCER-PPS_2022.01_Autopresentable.xml": (
        "PROGRAMME PERSONNALISÉ DE SOINS EN CANCEROLOGIE",
        "18776-5",
        "1.2.250.1.213.1.1.1.26.2022.1",
    ),
    "CANCER-PPS_2022.01_feuille-de-style-externe.xml": (
        "PROGRAMME PERSONNALISÉ DE SOINS EN CANCEROLOGIE",
        "18776-5",
        "1.2.250.1.213.1.1.1.26.2022.2",
    ),
}


def official(name: str) -> bytes:
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip("../shared/ci-sis/examples is not available")
    return path.read_bytes()


def section_titles(data: bytes) -> list[str]:
    """The titles of the body's sections, read independently of the module under test."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))  # noqa: S320
    titles = (
        " ".join("".join(title.itertext()).split())
        for title in root.iterfind(
            ".//{urn:hl7-org:v3}structuredBody//{urn:hl7-org:v3}section/{urn:hl7-org:v3}title"
        )
    )
    return [title for title in titles if title]


@pytest.mark.parametrize("name", OFFICIAL)
def test_an_official_example_renders_safely_with_all_its_section_titles(name: str) -> None:
    data = official(name)
    fragment = render_html(data)
    assert_safe_html(fragment)
    expected = section_titles(data)
    assert len(expected) >= 8
    rendered = headings(fragment)
    for title in expected:
        assert title in rendered
    assert "xsl:" not in fragment


@pytest.mark.parametrize("name", OFFICIAL)
def test_an_official_example_is_summarised(name: str) -> None:
    title, code, set_id = OFFICIAL[name]
    summary = summarise(official(name))
    assert (summary.title, summary.type_code, summary.set_id) == (title, code, set_id)
    assert summary.type_system == "2.16.840.1.113883.6.1"
    assert summary.version == 1
    assert summary.confidentiality == "N"
    assert isinstance(summary.effective_time, datetime)
    assert summary.effective_time.utcoffset() == timedelta(hours=1)
    assert summary.patient_ids == (
        "1.2.250.1.213.1.4.10^279035121518989",
        "1.2.3.4.567.8.9.10^1234567890121",
    )
    assert summary.authors == ("Charles MULLER",)
    assert summary.non_xml_body is None


def test_the_official_pps_keeps_its_bold_cells() -> None:
    fragment = render_html(official("CANCER-PPS_2022.01_feuille-de-style-externe.xml"))
    assert '<td class="cda-bold">Date du diagnostic initial</td>' in fragment


# --- Properties --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    namespace: str | None
    name: str
    attributes: dict[str, str]
    text: str
    tail: str
    children: tuple[Node, ...]


NARRATIVE_ELEMENTS = [
    "paragraph", "content", "list", "item", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
    "caption", "col", "colgroup", "sub", "sup", "br", "footnote", "footnoteRef", "linkHtml",
    "renderMultiMedia",
]  # fmt: skip
ELEMENTS = [(HL7, name) for name in NARRATIVE_ELEMENTS] + [
    (XHTML, "script"), (None, "script"), (HL7, "script"), (HL7, "style"), (HL7, "iframe"),
    (SVG, "svg"), (XHTML, "a"), (HL7, "object"), (HL7, "section"), (HL7, "title"),
]  # fmt: skip
ATTRIBUTE_NAMES = [
    "onload", "onclick", "style", "href", "ID", "IDREF", "styleCode", "colspan", "rowspan",
    "listType", "class", "src", "revised", "{http://www.w3.org/1999/xlink}href",
]  # fmt: skip
CHARACTERS = st.one_of(
    st.sampled_from("<>&\"' \n\t/=;:éà€😀\u00a0\u202e"),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co")),
)
TEXT = st.text(CHARACTERS, max_size=12)
ATTRIBUTE_VALUES = st.one_of(
    st.sampled_from(
        [
            "javascript:alert(1)", "Bold", "Italics xFoo", "2", "99999999", "-1", "ordered",
            "https://exemple.fr/?a=1&b=<2>", "expression(alert(1))", "delete", "x\" onload=\"y",
        ]
    ),
    TEXT,
)  # fmt: skip


def element_nodes(children: st.SearchStrategy[tuple[Node, ...]]) -> st.SearchStrategy[Node]:
    return st.builds(
        lambda element, attributes, text, tail, kids: Node(
            element[0], element[1], attributes, text, tail, kids
        ),
        st.sampled_from(ELEMENTS),
        st.dictionaries(st.sampled_from(ATTRIBUTE_NAMES), ATTRIBUTE_VALUES, max_size=3),
        TEXT,
        TEXT,
        children,
    )


TREES = st.lists(
    st.recursive(
        element_nodes(st.just(())),
        lambda inner: element_nodes(st.lists(inner, max_size=4).map(tuple)),
        max_leaves=20,
    ),
    max_size=4,
)

VOID = {"br", "col", "footnoteRef", "renderMultiMedia"}


def build(parent: Any, node: Node, visible: list[str], shown: bool) -> None:
    tag = node.name if node.namespace is None else f"{{{node.namespace}}}{node.name}"
    element = etree.SubElement(parent, tag)
    for name, value in node.attributes.items():
        element.set(name, value)
    element.text = node.text
    element.tail = node.tail
    own = shown and not (node.namespace == HL7 and node.name in VOID)
    if shown:
        visible.append(node.tail)
    if own:
        visible.append(node.text)
    for child in node.children:
        build(element, child, visible, own)


def collapse(text: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees=TREES, lead=TEXT)
def test_random_narratives_render_inside_the_allow_list(trees: list[Node], lead: str) -> None:
    document = parse_cda(cda())
    text = document.find(f".//{{{HL7}}}text")
    text.text = lead
    visible = [lead]
    for tree in trees:
        build(text, tree, visible, shown=True)
    data = etree.tostring(document, encoding="UTF-8", xml_declaration=True)
    fragment = render_html(data)
    assert_safe_html(fragment)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", fragment)  # Inside a tag.
    for piece in visible:
        if piece.strip():
            assert html.escape(collapse(piece), quote=True) in fragment


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(st.binary(max_size=200), TEXT.map(lambda text: text.encode())))
def test_random_bytes_only_ever_raise_cda_errors(data: bytes) -> None:
    try:
        render_html(data)
    except CdaError as exc:
        assert exc.code in {"not_xml", "not_cda", "doctype", "too_deep", "too_large"}


@settings(max_examples=300, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=10_000),
    junk=st.sampled_from(
        [b"<", b">", b"&", b"<!DOCTYPE x>", b"<script>", b"]]>", b"\x00", b"\xff"]
    ),
)
def test_corrupted_documents_render_safely_or_raise_cda_errors(position: int, junk: bytes) -> None:
    original = (SAMPLES / "fiche_rcp.xml").read_bytes()
    position %= len(original)
    data = original[:position] + junk + original[position:]
    try:
        fragment = render_html(data)
    except CdaError:
        return
    assert_safe_html(fragment)
