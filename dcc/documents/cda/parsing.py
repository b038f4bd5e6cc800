"""Parsing untrusted CDA bytes: size and nesting depth capped, any DOCTYPE refused before the
parser reads it, no entity, no DTD, no network; the root must be a ``ClinicalDocument`` (or the
CI-SIS self-presenting wrapper around one). ``CdaError`` carries the message for the user."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from django.utils.translation import gettext, gettext_noop
from lxml import etree  # type: ignore[import-untyped]

# lxml ships no type information: elements cross this package's boundary as ``Any``, and every
# value read from them is narrowed to ``str`` by the helpers in ``header``.
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


class CdaError(Exception):
    """An uploaded file that cannot be read as a CDA document; ``message`` is for the user."""

    def __init__(self, code: CdaErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: CdaErrorCode = code
        self.message = message


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


def _hl7(name: str) -> str:
    return f"{{{HL7_V3_NAMESPACE}}}{name}"
