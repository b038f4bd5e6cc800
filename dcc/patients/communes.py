"""The INSEE codes a birth place may carry: communes (today's and former ones) and countries.

The table ``data/communes.json`` is built by ``scripts/build_communes.py`` from the INSEE Code
Officiel Géographique 2026 (Etalab's ``@etalab/decoupage-administratif``) and INSEE's list of
countries and territories (99xxx). Paris, Lyon and Marseille births carry the municipal
arrondissement's code (75101…75120, 69381…69389, 13201…13216), which the table holds. Former
communes stay valid birth places: someone born in 1950 in a commune merged since keeps its code
on every identity document, and Corsica's places were 20xxx before 1976.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "Commune",
    "commune_name",
    "countries",
    "current_communes",
    "is_known_birth_place",
    "past_codes",
]

DATA_FILE: Final = Path(__file__).resolve().parent / "data" / "communes.json"


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str
    population: int


@dataclass(frozen=True, slots=True)
class _Table:
    current: dict[str, tuple[str, int]]
    past: dict[str, str]
    countries: dict[str, str]


@functools.cache
def _table() -> _Table:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return _Table(
        current={code: (name, int(pop)) for code, (name, pop) in data["communes"].items()},
        past=dict(data["past"]),
        countries=dict(data["countries"]),
    )


def _normalise(code: str) -> str:
    return code.strip().upper()


def commune_name(code: str) -> str | None:
    """The name of the commune (or of the country, for 99xxx) the INSEE code stands for."""
    code = _normalise(code)
    table = _table()
    if code in table.current:
        return table.current[code][0]
    return table.past.get(code) or table.countries.get(code)


def is_known_birth_place(code: str) -> bool:
    """Whether the code is a commune of the COG (current or former) or an INSEE country code."""
    return commune_name(code) is not None


def current_communes() -> list[Commune]:
    """Today's communes and municipal arrondissements, with their legal population."""
    return [Commune(code, name, pop) for code, (name, pop) in _table().current.items()]


def countries() -> dict[str, str]:
    """INSEE country and territory codes (99xxx) with their names."""
    return dict(_table().countries)


def past_codes() -> list[str]:
    """Codes of former communes (merged, renumbered) that remain valid for an earlier birth."""
    return list(_table().past)
