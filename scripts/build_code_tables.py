"""Build dcc's run-time code tables from the CI-SIS value sets (JDV).

Usage: python scripts/build_code_tables.py [PATH_TO_SHARED_CI_SIS] [--check]

With --check nothing is written: the exit status is 1 when a shipped table differs from what
the value sets would produce.

The value sets are read from ../shared/ci-sis/jeuxDeValeurs (IHE SVS XML) and written as JSON
under dcc/interop/terminology/data/. The JSON files are committed, so the application never
needs the value-set folder at run time; rerun this script when a new JDV release is taken.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from defusedxml import ElementTree

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "dcc" / "interop" / "terminology" / "data"
SVS = "{urn:ihe:iti:svs:2008}"

# value set file -> output name
TABLES = {
    "JDV_J01_XdsAuthorSpecialty_CISIS.xml": "author_specialty",
}


def read_value_set(path: Path) -> dict[str, object]:
    root = ElementTree.parse(path).getroot()
    value_set = root.find(f"{SVS}ValueSet") if root is not None else None
    if value_set is None:
        raise SystemExit(f"{path}: no ValueSet element")
    concepts = [
        {
            "code": concept.get("code"),
            "system": concept.get("codeSystem"),
            "display": concept.get("displayName"),
        }
        for concept in value_set.iter(f"{SVS}Concept")
        if not concept.get("dateFin")
    ]
    return {
        "oid": value_set.get("id"),
        "name": value_set.get("displayName"),
        "revision": value_set.get("revisionDate") or value_set.get("effectiveDate"),
        "source": path.name,
        "concepts": concepts,
    }


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg != "--check"]
    check = "--check" in sys.argv[1:]
    source = Path(args[0]) if args else ROOT.parent / "shared" / "ci-sis"
    folder = source / "jeuxDeValeurs"
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for file_name, name in TABLES.items():
        table = read_value_set(folder / file_name)
        target = OUT / f"{name}.json"
        text = json.dumps(table, ensure_ascii=False, indent=1) + "\n"
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target.relative_to(ROOT)))
            continue
        target.write_text(text, encoding="utf-8")
        print(f"{target.relative_to(ROOT)}: {len(table['concepts'])} concepts")  # type: ignore[arg-type]
    if stale:
        print("out of date: " + ", ".join(stale))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
