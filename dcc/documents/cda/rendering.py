"""Rendering a CDA document as an HTML fragment built only from an allow-list (``ALLOWED_TAGS``,
``ALLOWED_ATTRIBUTES``, ``CSS_CLASSES``): its header, then its sections' narrative, every text
escaped, every other element dropped for its text, each node visited once."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from urllib.parse import urlsplit

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from lxml import etree  # type: ignore[import-untyped]

from dcc.documents.cda.header import (
    CdaSummary,
    _attr,
    _child,
    _children,
    _distinct,
    _person_name,
    _summarise,
    _text,
    parse_hl7_time,
)
from dcc.documents.cda.parsing import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_SIZE,
    HL7_V3_NAMESPACE,
    CdaElement,
    _hl7,
    parse_cda,
)
from dcc.interop.terminology import oids

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

_INS_LABELS = {
    oids.INS_NIR: "INS (NIR)",
    oids.INS_NIA: "INS (NIA)",
    oids.INS_NIR_TEST: "INS (NIR de test)",
    oids.INS_NIR_DEMO: "INS (NIR de démonstration)",
}


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
