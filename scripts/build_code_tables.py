"""Build dcc's run-time code tables from the CI-SIS value sets (JDV).

Usage: python scripts/build_code_tables.py [PATH_TO_SHARED_CI_SIS]

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
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "ci-sis"
    folder = source / "jeuxDeValeurs"
    OUT.mkdir(parents=True, exist_ok=True)
    for file_name, name in TABLES.items():
        table = read_value_set(folder / file_name)
        target = OUT / f"{name}.json"
        target.write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{target.relative_to(ROOT)}: {len(table['concepts'])} concepts")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
