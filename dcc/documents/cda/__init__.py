"""Read uploaded CDA R2 documents safely: parse, summarise, render the narrative as HTML.

Documents come from other systems (CI-SIS volets: fiche RCP, PPS, CR d'anatomopathologie,
unstructured N1 documents carrying a PDF...) and are untrusted. Parsing refuses any DOCTYPE
before the parser reads a byte of it, so no entity is ever declared, expanded or fetched and no
DTD is loaded; the network is off; size and nesting depth are capped. Rendering never uses the
document's stylesheet: it rebuilds HTML from an allow-list of NarrativeBlock elements (see
``ALLOWED_TAGS``, ``ALLOWED_ATTRIBUTES`` and ``CSS_CLASSES``), escapes every text node, drops
every other element (keeping its text) and every other attribute, and visits each node once, so
its time is linear in the size of the document.

The package: ``parsing`` (the hardened parser and its errors), ``header`` (``summarise`` and
the element helpers) and ``rendering`` (``render_html`` and its allow-list). Import from here.
"""

from dcc.documents.cda.header import CdaSummary, parse_hl7_time, summarise
from dcc.documents.cda.parsing import (
    CI_SIS_NAMESPACE,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_SIZE,
    HL7_V3_NAMESPACE,
    MAX_DEPTH_CEILING,
    XSLT_NAMESPACE,
    CdaElement,
    CdaError,
    CdaErrorCode,
    parse_cda,
)
from dcc.documents.cda.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    CSS_CLASSES,
    render_html,
)

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "CI_SIS_NAMESPACE",
    "CSS_CLASSES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_SIZE",
    "HL7_V3_NAMESPACE",
    "MAX_DEPTH_CEILING",
    "XSLT_NAMESPACE",
    "CdaElement",
    "CdaError",
    "CdaErrorCode",
    "CdaSummary",
    "parse_cda",
    "parse_hl7_time",
    "render_html",
    "summarise",
]
