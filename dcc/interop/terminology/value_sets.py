"""Read-only access to the value sets shipped in ``data/`` (built by scripts/build_code_tables.py)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from dcc.interop.terminology import oids

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class Concept:
    code: str
    system: str
    display: str


@functools.cache
def value_set(name: str) -> tuple[Concept, ...]:
    raw = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return tuple(Concept(c["code"], c["system"], c["display"]) for c in raw["concepts"])


@functools.cache
def _by_code(name: str) -> dict[str, Concept]:
    return {c.code: c for c in value_set(name)}


def professions() -> tuple[Concept, ...]:
    """Health professions (TRE_G15) usable as an author's profession in CI-SIS documents."""
    return tuple(
        c
        for c in value_set("author_specialty")
        if c.system == oids.TRE_G15_PROFESSION and "/" not in c.code
    )


def specialties() -> tuple[Concept, ...]:
    """Profession/specialty pairs (e.g. ``G15_10/SM54``: physician, medical oncology)."""
    return tuple(
        c
        for c in value_set("author_specialty")
        if c.system == oids.TRE_G15_PROFESSION and "/" in c.code
    )


def profession_choices() -> list[tuple[str, str]]:
    return [(c.code, c.display) for c in professions()]


def specialty_choices() -> list[tuple[str, str]]:
    return [(c.code, c.display) for c in specialties()]


def display(code: str) -> str:
    for concept in value_set("author_specialty"):
        if concept.code == code:
            return concept.display
    return code


# XDS document metadata (../shared/domain.md §6). The typeCode is what the user picks; the
# classCode follows from it through the CI-SIS table ASS_X04.

# LOINC typeCodes offered first when a document is added to an oncology record, in the order of
# the care pathway. Each one is in JDV_J07 (a test checks it).
ONCOLOGY_DOCUMENT_TYPES: tuple[str, ...] = (
    "34794-8",  # CR de réunion de concertation pluridisciplinaire (fiche RCP)
    "60568-3",  # CR d'anatomie et de cytologie pathologiques
    "51969-4",  # CR de génétique moléculaire
    "18748-4",  # CR d'imagerie médicale
    "11488-4",  # CR ou fiche de consultation ou de visite
    "34874-8",  # CR opératoire
    "18776-5",  # Plan personnalisé de soins (PPS)
    "77604-7",  # Planification thérapeutique (protocole, plan de chimiothérapie)
    "80565-5",  # CR d'administration de médicaments (séance de chimiothérapie)
    "11505-5",  # CR d'acte thérapeutique (autre) (radiothérapie, radiologie interventionnelle)
    "70004-7",  # CR d'acte diagnostique (autre) (endoscopie, biopsie)
    "11502-2",  # CR d'examens biologiques
    "34112-3",  # CR hospitalier (séjour)
    "11490-0",  # Lettre de liaison à la sortie d'un établissement de soins
    "96349-6",  # Lettre d'adressage
    "60591-5",  # Synthèse médicale
    "59284-0",  # Attestation de consentement
)


def document_types() -> tuple[Concept, ...]:
    """Every XDS typeCode of the CI-SIS (JDV_J07): LOINC codes and CI-SIS specific codes."""
    return value_set("document_type")


def document_type(code: str) -> Concept | None:
    return _by_code("document_type").get(code)


def confidentiality_codes() -> tuple[Concept, ...]:
    """XDS confidentialityCode values (JDV_J08): HL7 N/R/V and the DMP visibility codes."""
    return value_set("confidentiality")


def document_classes() -> tuple[Concept, ...]:
    """Every XDS classCode of the CI-SIS (JDV_J06, codes of TRE_A03-ClasseDocument)."""
    return value_set("document_class")


@functools.cache
def _class_of_type() -> dict[str, Concept]:
    raw = json.loads((DATA / "document_type_class.json").read_text(encoding="utf-8"))
    classes = {(c.code, c.system): c for c in document_classes()}
    found: dict[str, Concept] = {}
    for mapping in raw["mappings"]:
        concept = classes.get((mapping["class"], mapping["class_system"]))
        if concept is not None:
            found[mapping["type"]] = concept
    return found


def document_class_for(type_code: str) -> Concept | None:
    """The XDS classCode of a document of this typeCode (ASS_X04), or None when unknown."""
    return _class_of_type().get(type_code)
