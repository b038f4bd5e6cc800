"""Reading the header of a CDA document (``summarise``: title, type, date, identifiers,
patients, authors, attachment) and the element helpers the renderer shares."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from dcc.documents.cda.parsing import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_SIZE,
    CdaElement,
    _hl7,
    parse_cda,
)

_TS = re.compile(
    r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})?(?P<day>[0-9]{2})?"
    r"(?P<hour>[0-9]{2})?(?P<minute>[0-9]{2})?(?P<second>[0-9]{2})?"
    r"(?:\.(?P<fraction>[0-9]{1,6})[0-9]*)?"
    r"(?P<offset>[+-][0-9]{4})?"
)


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
