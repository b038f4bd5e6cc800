"""Read uploaded CDA R2 documents safely: parse, summarise, render the narrative as HTML.

Documents come from other systems (CI-SIS volets: fiche RCP, PPS, CR d'anatomopathologie,
unstructured N1 documents carrying a PDF...) and are untrusted. Parsing refuses any DOCTYPE
before the parser reads a byte of it, so no entity is ever declared, expanded or fetched and no
DTD is loaded; the network is off; size and nesting depth are capped. Rendering never uses the
document's stylesheet: it rebuilds HTML from an allow-list of NarrativeBlock elements (see
``ALLOWED_TAGS``, ``ALLOWED_ATTRIBUTES`` and ``CSS_CLASSES``), escapes every text node, drops
every other element (keeping its text) and every other attribute, and visits each node once, so
its time is linear in the size of the document.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal, TypeAlias
from urllib.parse import urlsplit

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop
from lxml import etree  # type: ignore[import-untyped]

from dcc.interop.terminology import oids

# lxml ships no type information: elements cross this module's boundary as ``Any``, and every
# value read from them is narrowed to ``str`` by the helpers below.
CdaElement: TypeAlias = Any

HL7_V3_NAMESPACE = "urn:hl7-org:v3"
# A CI-SIS "self-presenting" document is an XSLT stylesheet carrying the ClinicalDocument in
# ``data:Contenu``. The stylesheet is never run: only the embedded ClinicalDocument is read.
XSLT_NAMESPACE = "http://www.w3.org/1999/XSL/Transform"
CI_SIS_NAMESPACE = "urn:asip-sante:ci-sis"

DEFAULT_MAX_SIZE = 20 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
# Rendering recurses a few Python frames per level of nesting: keep well inside the default
# recursion limit of 1000 (libxml2 itself stops at 256).
MAX_DEPTH_CEILING = 150

CdaErrorCode: TypeAlias = Literal["too_large", "not_xml", "doctype", "too_deep", "not_cda"]

# Every tag and attribute ``render_html`` can produce, and every class it can set.
ALLOWED_TAGS = frozenset(
    {
        "article", "header", "section", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd",
        "div", "p", "span", "br", "sub", "sup", "ul", "ol", "li", "table", "caption",
        "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = frozenset({"class", "colspan", "rowspan"})
CSS_CLASSES = frozenset(
    {
        "cda-document", "cda-header", "cda-title", "cda-meta", "cda-section", "cda-narrative",
        "cda-note", "cda-bold", "cda-italics", "cda-underline", "cda-emphasis", "cda-inserted",
        "cda-deleted", "cda-caption", "cda-footnote", "cda-footnote-ref", "cda-link",
        "cda-link-href", "cda-placeholder",
    }
)  # fmt: skip

_STYLE_CLASSES = {
    "bold": "cda-bold",
    "italics": "cda-italics",
    "underline": "cda-underline",
    "emphasis": "cda-emphasis",
}
_REVISED_CLASSES = {"insert": "cda-inserted", "delete": "cda-deleted"}

# NarrativeBlock elements rendered as one HTML element of the same shape.
_PLAIN_TAGS = {
    "paragraph": "p", "content": "span", "sub": "sub", "sup": "sup", "item": "li",
    "table": "table", "thead": "thead", "tbody": "tbody", "tfoot": "tfoot", "tr": "tr",
    "th": "th", "td": "td", "colgroup": "colgroup",
}  # fmt: skip
# Browsers cap colspan at 1000 and rowspan at 65534; a larger value is not worth keeping.
_SPAN_LIMITS = {"colspan": 1000, "rowspan": 65534}
_SPAN_VALUE = re.compile(r"[0-9]{1,5}")
_MAX_HREF_LENGTH = 2048
_XML_SPACE = re.compile(r"[ \t\r\n]+")

_TS = re.compile(
    r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})?(?P<day>[0-9]{2})?"
    r"(?P<hour>[0-9]{2})?(?P<minute>[0-9]{2})?(?P<second>[0-9]{2})?"
    r"(?:\.(?P<fraction>[0-9]{1,6})[0-9]*)?"
    r"(?P<offset>[+-][0-9]{4})?"
)

_INS_LABELS = {
    oids.INS_NIR: "INS (NIR)",
    oids.INS_NIA: "INS (NIA)",
    oids.INS_NIR_TEST: "INS (NIR de test)",
    oids.INS_NIR_DEMO: "INS (NIR de démonstration)",
}


class CdaError(Exception):
    """An uploaded file that cannot be read as a CDA document; ``message`` is for the user."""

    def __init__(self, code: CdaErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: CdaErrorCode = code
        self.message = message


@dataclass(frozen=True)
class CdaSummary:
    """What the header of a CDA document says, read without its narrative or attachment."""

    title: str
    type_code: str
    type_system: str
    type_display: str
    effective_time: datetime | date | None
    document_id: str
    set_id: str
    version: int | None
    confidentiality: str
    patient_ids: tuple[str, ...]
    authors: tuple[str, ...]
    non_xml_body: tuple[str, str] | None


# --- Parsing -----------------------------------------------------------------------------------


class _DoctypeFound(Exception):
    pass


class _RootReached(Exception):
    pass


class _PrologProbe:
    """Parser target that stops at the DOCTYPE or at the root element, whichever comes first.

    libxml2 announces a DOCTYPE before it reads the internal subset, so raising here refuses
    entity declarations (billion laughs, external entities) before any is read.
    """

    def doctype(self, name: object, public_id: object, system_url: object) -> None:
        raise _DoctypeFound

    def start(self, tag: object, attrib: object) -> None:
        raise _RootReached

    def close(self) -> None:
        return None


def _hardened_parser(target: object = None) -> Any:
    return etree.XMLParser(
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        collect_ids=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_cda(
    data: bytes, *, max_size: int = DEFAULT_MAX_SIZE, max_depth: int = DEFAULT_MAX_DEPTH
) -> CdaElement:
    """Parse untrusted bytes and return the ``ClinicalDocument`` element.

    Refuses input over ``max_size`` bytes, anything with a DOCTYPE, nesting deeper than
    ``max_depth`` elements, and any root other than HL7 v3 ``ClinicalDocument`` (or the CI-SIS
    self-presenting wrapper around one). Comments and processing instructions (such as
    ``xml-stylesheet``) are dropped at parse time.
    """
    if not isinstance(data, bytes):
        raise TypeError("parse_cda expects bytes")
    if not 1 <= max_depth <= MAX_DEPTH_CEILING:
        raise ValueError(f"max_depth must be between 1 and {MAX_DEPTH_CEILING}")
    if len(data) > max_size:
        raise _error("too_large", size=_format_size(max_size))
    _refuse_doctype(data)
    try:
        root = etree.fromstring(data, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        if "depth" in str(exc).lower():
            raise _error("too_deep", depth=max_depth) from exc
        raise _error("not_xml") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _error("doctype")  # Unreachable after the probe; kept as a second lock.
    _check_depth(root, max_depth)
    return _clinical_document(root)


def _refuse_doctype(data: bytes) -> None:
    try:
        etree.fromstring(data, _hardened_parser(_PrologProbe()))
    except _RootReached:
        return
    except _DoctypeFound:
        raise _error("doctype") from None
    except etree.XMLSyntaxError as exc:
        raise _error("not_xml") from exc
    raise _error("not_xml")  # A prolog without any element.


def _check_depth(root: CdaElement, max_depth: int) -> None:
    # One location step per level: libxml2 visits each element once, in C.
    below_limit = "/" + "/".join(["*"] * (max_depth + 1))
    if root.xpath(f"boolean({below_limit})") is True:
        raise _error("too_deep", depth=max_depth)


def _clinical_document(root: CdaElement) -> CdaElement:
    if root.tag == _hl7("ClinicalDocument"):
        return root
    if root.tag in (f"{{{XSLT_NAMESPACE}}}stylesheet", f"{{{XSLT_NAMESPACE}}}transform"):
        documents = [
            document
            for content in root.iterchildren(f"{{{CI_SIS_NAMESPACE}}}Contenu")
            for document in content.iterchildren(_hl7("ClinicalDocument"))
        ]
        if len(documents) == 1:
            return documents[0]
    raise _error("not_cda")


def _format_size(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} Mo" if size >= 1024 * 1024 else f"{max(size // 1024, 1)} ko"


_MESSAGES: dict[CdaErrorCode, str] = {
    "too_large": gettext_noop("Le fichier dépasse la taille maximale de %(size)s."),
    "not_xml": gettext_noop("Ce fichier n'est pas un document XML lisible."),
    "doctype": gettext_noop(
        "Ce fichier XML contient une déclaration DOCTYPE, refusée par sécurité : un document CDA n'en a pas besoin."
    ),
    "too_deep": gettext_noop(
        "Ce document est imbriqué trop profondément (plus de %(depth)d niveaux)."
    ),
    "not_cda": gettext_noop(
        "Ce fichier XML n'est pas un document CDA : l'élément ClinicalDocument (HL7 v3) est attendu."
    ),
}


def _error(code: CdaErrorCode, **params: object) -> CdaError:
    message = gettext(_MESSAGES[code])
    return CdaError(code, message % params if params else message)


# --- Reading the header -----------------------------------------------------------------------


def _hl7(name: str) -> str:
    return f"{{{HL7_V3_NAMESPACE}}}{name}"


def _child(element: CdaElement | None, *path: str) -> CdaElement | None:
    """The first element down ``path`` (HL7 v3 local names), or None."""
    for name in path:
        if element is None:
            return None
        element = element.find(_hl7(name))
    return element


def _children(element: CdaElement | None, name: str) -> list[CdaElement]:
    return [] if element is None else list(element.iterchildren(_hl7(name)))


def _attr(element: CdaElement | None, name: str) -> str:
    value = None if element is None else element.get(name)
    return value.strip() if isinstance(value, str) else ""


def _text(element: CdaElement | None) -> str:
    """The element's text content with whitespace collapsed."""
    if element is None:
        return ""
    return " ".join("".join(t for t in element.itertext() if isinstance(t, str)).split())


def _instance_id(element: CdaElement | None) -> str:
    root, extension = _attr(element, "root"), _attr(element, "extension")
    return f"{root}^{extension}" if root and extension else root or extension


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def _name_parts(name: CdaElement, part: str) -> list[str]:
    # French names repeat parts with qualifiers (BR: birth name, CL: used name): prefer the
    # unqualified parts, then the birth name, so each person reads once.
    elements = _children(name, part)
    chosen = (
        [e for e in elements if not _attr(e, "qualifier")]
        or [e for e in elements if "BR" in _attr(e, "qualifier").split()]
        or elements
    )
    return _distinct(_text(e) for e in chosen)


def _person_name(name: CdaElement | None) -> str:
    if name is None:
        return ""
    parts = _name_parts(name, "given") + _name_parts(name, "family")
    return " ".join(parts) if parts else _text(name)


def parse_hl7_time(value: str) -> datetime | date | None:
    """Read an HL7 v3 TS (``YYYYMMDD[HH[MM[SS[.S+]]]][+/-ZZZZ]``).

    A date without a time gives a ``date``; a time gives a ``datetime``, aware when an offset is
    given. Coarser than a day, or not a valid TS: None.
    """
    match = _TS.fullmatch(value.strip())
    if match is None or match["day"] is None:
        return None
    if match["fraction"] is not None and match["second"] is None:
        return None
    try:
        day = date(int(match["year"]), int(match["month"]), int(match["day"]))
        if match["hour"] is None:
            return day
        tz = None
        if match["offset"] is not None:
            sign = -1 if match["offset"][0] == "-" else 1
            hours, minutes = int(match["offset"][1:3]), int(match["offset"][3:5])
            if minutes >= 60:
                return None
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        clock = time(
            int(match["hour"]),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            int((match["fraction"] or "0").ljust(6, "0")),
        )
        return datetime.combine(day, clock, tzinfo=tz)
    except ValueError:
        return None


def _version(element: CdaElement | None) -> int | None:
    value = _attr(element, "value")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _summarise(document: CdaElement) -> CdaSummary:
    code = _child(document, "code")
    return CdaSummary(
        title=_text(_child(document, "title")),
        type_code=_attr(code, "code"),
        type_system=_attr(code, "codeSystem"),
        type_display=_attr(code, "displayName"),
        effective_time=parse_hl7_time(_attr(_child(document, "effectiveTime"), "value")),
        document_id=_instance_id(_child(document, "id")),
        set_id=_instance_id(_child(document, "setId")),
        version=_version(_child(document, "versionNumber")),
        confidentiality=_attr(_child(document, "confidentialityCode"), "code"),
        patient_ids=tuple(
            _distinct(
                _instance_id(identifier)
                for record_target in _children(document, "recordTarget")
                for identifier in _children(_child(record_target, "patientRole"), "id")
            )
        ),
        authors=tuple(
            _distinct(
                _person_name(_child(author, "assignedAuthor", "assignedPerson", "name"))
                for author in _children(document, "author")
            )
        ),
        non_xml_body=_non_xml_body(document),
    )


def _non_xml_body(document: CdaElement) -> tuple[str, str] | None:
    text = _child(document, "component", "nonXMLBody", "text")
    if _child(document, "component", "nonXMLBody") is None:
        return None
    # The CDA defaults of an ED: plain text, not encoded.
    return (_attr(text, "mediaType") or "text/plain", _attr(text, "representation") or "TXT")


def summarise(
    data: bytes, *, max_size: int = DEFAULT_MAX_SIZE, max_depth: int = DEFAULT_MAX_DEPTH
) -> CdaSummary:
    """Parse ``data`` safely (see ``parse_cda``) and read its header."""
    return _summarise(parse_cda(data, max_size=max_size, max_depth=max_depth))


# --- Rendering --------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _escape_text(text: str) -> str:
    """Escape a narrative text node, collapsing the source's indentation as HTML would."""
    return html.escape(_XML_SPACE.sub(" ", text), quote=True)


def render_html(
    data: bytes,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    max_depth: int = DEFAULT_MAX_DEPTH,
    heading_level: int = 2,
) -> SafeString:
    """Parse ``data`` safely and render it as an HTML fragment built only from the allow-list.

    The document title is an ``h<heading_level>``, top-level sections one level below, nested
    sections below that (capped at ``h6``). A nonXMLBody is announced, never decoded.
    """
    document = parse_cda(data, max_size=max_size, max_depth=max_depth)
    summary = _summarise(document)
    renderer = _Renderer(heading_level=min(max(heading_level, 1), 6))
    out = renderer.out
    out.append('<article class="cda-document">')
    renderer.render_header(document, summary)
    structured = _child(document, "component", "structuredBody")
    if structured is not None:
        for component in _children(structured, "component"):
            for section in _children(component, "section"):
                renderer.render_section(section, renderer.heading_level + 1)
    elif summary.non_xml_body is not None:
        renderer.render_note(
            gettext(
                "Ce document contient un fichier joint de type %(media_type)s, proposé séparément."
            )
            % {"media_type": summary.non_xml_body[0]}
        )
    else:
        renderer.render_note(gettext("Ce document n'a pas de contenu affichable."))
    out.append("</article>")
    # Safe by construction: every tag comes from this module, every text is escaped.
    return mark_safe("".join(out))  # noqa: S308


def _format_time(value: datetime | date | None) -> str:
    if value is None:
        return ""
    day = f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    if not isinstance(value, datetime):
        return day
    text = f"{day} {value.hour:02d}:{value.minute:02d}"
    offset = value.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        text += f" (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"
    return text


def _format_patient_id(identifier: CdaElement) -> str:
    root, extension = _attr(identifier, "root"), _attr(identifier, "extension")
    if root in _INS_LABELS and extension:
        return f"{_INS_LABELS[root]} : {extension}"
    return f"{extension} ({root})" if root and extension else root or extension


class _Renderer:
    """Accumulates the HTML of one document; each source node is visited exactly once."""

    def __init__(self, *, heading_level: int) -> None:
        self.heading_level = heading_level
        self.out: list[str] = []
        self.footnotes: dict[str, int] = {}
        self.footnote_count = 0

    # Header and sections.

    def render_header(self, document: CdaElement, summary: CdaSummary) -> None:
        out = self.out
        level = self.heading_level
        title = summary.title or summary.type_display or gettext("Document sans titre")
        out.append(f'<header class="cda-header"><h{level} class="cda-title">')
        out.append(f"{_escape(title)}</h{level}>")
        rows: list[tuple[str, list[str]]] = []
        if summary.type_display or summary.type_code:
            kind = summary.type_display or summary.type_code
            if summary.type_display and summary.type_code:
                kind = f"{summary.type_display} ({summary.type_code})"
            rows.append((gettext("Type de document"), [kind]))
        rows.append((gettext("Date du document"), [_format_time(summary.effective_time)]))
        patients = _children(document, "recordTarget")
        names: list[str] = []
        ids: list[str] = []
        for record_target in patients:
            role = _child(record_target, "patientRole")
            patient = _child(role, "patient")
            name = _person_name(_child(patient, "name"))
            birth = parse_hl7_time(_attr(_child(patient, "birthTime"), "value"))
            if name and birth is not None:
                name = gettext("%(name)s, né(e) le %(date)s") % {
                    "name": name,
                    "date": _format_time(
                        birth if not isinstance(birth, datetime) else birth.date()
                    ),
                }
            names.append(name)
            ids.extend(_format_patient_id(identifier) for identifier in _children(role, "id"))
        rows.append((gettext("Patient"), _distinct(names)))
        rows.append((gettext("Identifiants du patient"), _distinct(ids)))
        authors: list[str] = []
        for author in _children(document, "author"):
            assigned = _child(author, "assignedAuthor")
            name = _person_name(_child(assigned, "assignedPerson", "name"))
            organisation = _text(_child(assigned, "representedOrganization", "name"))
            if name and organisation:
                name = f"{name} ({organisation})"
            authors.append(name or organisation)
        rows.append((gettext("Auteurs"), _distinct(authors)))
        custodian = _child(
            document, "custodian", "assignedCustodian", "representedCustodianOrganization"
        )
        rows.append((gettext("Établissement responsable"), [_text(_child(custodian, "name"))]))
        out.append('<dl class="cda-meta">')
        for label, values in rows:
            shown = [value for value in values if value]
            if shown:
                out.append(f"<dt>{_escape(label)}</dt><dd>")
                out.append("<br>".join(_escape(value) for value in shown))
                out.append("</dd>")
        out.append("</dl></header>")

    def render_note(self, text: str) -> None:
        self.out.append(f'<p class="cda-note">{_escape(text)}</p>')

    def render_section(self, section: CdaElement, level: int) -> None:
        out = self.out
        out.append('<section class="cda-section">')
        title = _text(_child(section, "title")) or _attr(_child(section, "code"), "displayName")
        if title:
            heading = min(level, 6)
            out.append(f"<h{heading}>{_escape(title)}</h{heading}>")
        text = _child(section, "text")
        if text is not None and (len(text) or (text.text or "").strip()):
            out.append('<div class="cda-narrative">')
            self.render_children(text)
            out.append("</div>")
        for component in _children(section, "component"):
            for subsection in _children(component, "section"):
                self.render_section(subsection, level + 1)
        out.append("</section>")

    # NarrativeBlock.

    def render_children(self, element: CdaElement) -> None:
        out = self.out
        if element.text:
            out.append(_escape_text(element.text))
        for child in element:
            if isinstance(child.tag, str):
                self.render_node(child)
            if child.tail:
                out.append(_escape_text(child.tail))

    def render_node(self, element: CdaElement) -> None:
        qname = etree.QName(element)
        if qname.namespace != HL7_V3_NAMESPACE:
            self.render_children(element)  # Foreign markup (XHTML, SVG...): its text only.
            return
        name = qname.localname
        out = self.out
        if name in _PLAIN_TAGS:
            tag = _PLAIN_TAGS[name]
            out.append(f"<{tag}{self.attributes(element, spans=name in ('td', 'th'))}>")
            self.render_children(element)
            out.append(f"</{tag}>")
        elif name == "br":
            out.append("<br>")
        elif name == "col":
            out.append(f"<col{self.attributes(element)}>")
        elif name == "list":
            self.render_list(element)
        elif name == "caption":
            parent = element.getparent()
            if parent is not None and parent.tag == _hl7("table"):
                out.append(f"<caption{self.attributes(element)}>")
                self.render_children(element)
                out.append("</caption>")
            else:
                self.render_wrapped(element, "span", "cda-caption")
        elif name == "linkHtml":
            self.render_link(element)
        elif name == "renderMultiMedia":
            placeholder = gettext("[contenu multimédia non affiché]")
            out.append(f'<span class="cda-placeholder">{_escape(placeholder)}</span>')
            for caption in _children(element, "caption"):
                out.append(" ")
                self.render_wrapped(caption, "span", "cda-caption")
        elif name == "footnote":
            number = self.footnote_number(_attr(element, "ID"))
            out.append(f'<span class="cda-footnote">[{number}] ')
            self.render_children(element)
            out.append("</span>")
        elif name == "footnoteRef":
            number = self.footnote_number(_attr(element, "IDREF"))
            out.append(f'<sup class="cda-footnote-ref">[{number}]</sup>')
        else:
            self.render_children(element)

    def render_wrapped(self, element: CdaElement, tag: str, css_class: str) -> None:
        classes = " ".join([css_class, *self.classes(element)])
        self.out.append(f'<{tag} class="{classes}">')
        self.render_children(element)
        self.out.append(f"</{tag}>")

    def render_list(self, element: CdaElement) -> None:
        out = self.out
        for caption in _children(element, "caption"):
            self.render_wrapped(caption, "p", "cda-caption")
        tag = "ol" if _attr(element, "listType") == "ordered" else "ul"
        out.append(f"<{tag}{self.attributes(element)}>")
        if element.text and element.text.strip():
            out.append(_escape_text(element.text))
        for child in element:
            is_caption = isinstance(child.tag, str) and child.tag == _hl7("caption")
            if isinstance(child.tag, str) and not is_caption:
                self.render_node(child)
            if child.tail and child.tail.strip():
                out.append(_escape_text(child.tail))
        out.append(f"</{tag}>")

    def render_link(self, element: CdaElement) -> None:
        # Never an active link: the text, then the address as text when it is a web one.
        self.render_wrapped(element, "span", "cda-link")
        href = _attr(element, "href")
        if _is_web_address(href) and (len(element) or (element.text or "").strip() != href):
            self.out.append(f' <span class="cda-link-href">({_escape(href)})</span>')

    def footnote_number(self, identifier: str) -> int:
        if identifier and identifier in self.footnotes:
            return self.footnotes[identifier]
        self.footnote_count += 1
        if identifier:
            self.footnotes[identifier] = self.footnote_count
        return self.footnote_count

    def classes(self, element: CdaElement) -> list[str]:
        classes = [
            _STYLE_CLASSES[token.lower()]
            for token in _attr(element, "styleCode").split()
            if token.lower() in _STYLE_CLASSES
        ]
        revised = _REVISED_CLASSES.get(_attr(element, "revised"))
        if revised:
            classes.append(revised)
        return _distinct(classes)

    def attributes(self, element: CdaElement, *, spans: bool = False) -> str:
        parts: list[str] = []
        classes = self.classes(element)
        if classes:
            parts.append(f' class="{" ".join(classes)}"')
        if spans:
            for name, limit in _SPAN_LIMITS.items():
                value = _attr(element, name)
                if _SPAN_VALUE.fullmatch(value) and 1 <= int(value) <= limit:
                    parts.append(f' {name}="{int(value)}"')
        return "".join(parts)


def _is_web_address(href: str) -> bool:
    if not href or len(href) > _MAX_HREF_LENGTH or not href.isprintable():
        return False
    try:
        parts = urlsplit(href)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
