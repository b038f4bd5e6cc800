"""Read-only access to the value sets shipped in ``data/``."""

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
