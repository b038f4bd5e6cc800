"""Build dcc's run-time code tables from the CI-SIS value sets (JDV).

Usage: python scripts/build_code_tables.py [PATH_TO_SHARED_CI_SIS] [--check]

With --check nothing is written: the exit status is 1 when a shipped table differs from what
the value sets would produce.

The value sets are read from ../shared/ci-sis/jeuxDeValeurs (IHE SVS XML) and written as JSON
under dcc/interop/terminology/data/. The JSON files are committed, so the application never
needs the value-set folder at run time; rerun this script when a new JDV release is taken.

Two official files the XDS document classCode needs are not in ../shared: the classCode value
set JDV_J06 and the association table ASS_X04 (typeCode -> classCode). Copies are vendored in
scripts/value_sets/ (see its README for where they come from); an SVS XML copy of either in
../shared/ci-sis/jeuxDeValeurs, under its test-kit or its NOS file name, takes precedence.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TypedDict, final
from xml.etree.ElementTree import Element  # noqa: S405 - type only; parsing uses defusedxml

from defusedxml import ElementTree

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "dcc" / "interop" / "terminology" / "data"
VENDORED = Path(__file__).resolve().parent / "value_sets"
SVS = "{urn:ihe:iti:svs:2008}"

# SVS value set file -> output name
TABLES = {
    "JDV_J01_XdsAuthorSpecialty_CISIS.xml": "author_specialty",
    "JDV_J07_XdsTypeCode_CISIS.xml": "document_type",
    "JDV_J08_XdsConfidentialityCode_CISIS.xml": "confidentiality",
}
# Not in ../shared yet: test-kit name first, NOS name second, then the vendored copy.
CLASS_CODES = ("JDV_J06_XdsClassCode_CISIS.xml", "JDV_J06-XdsClassCode-CISIS.xml")
CLASS_CODES_VENDORED = VENDORED / "JDV_J06_XdsClassCode_CISIS.fsh"
TYPE_TO_CLASS = (
    "ASS_X04_CorrespondanceType_Classe_CISIS.xml",
    "ASS_X04-CorrespondanceType-Classe-CISIS.xml",
)
TYPE_TO_CLASS_VENDORED = VENDORED / "ASS_X04-CorrespondanceType-Classe-CISIS.xml"

# One concept of a FHIR Shorthand value set: * $CodeSystemAlias#code "display"
FSH_CONCEPT = re.compile(r'^\* \$(?P<alias>[\w-]+)#(?P<code>\S+) "(?P<display>[^"]*)"$')
FSH_RULE = re.compile(r'^\* \^(?P<key>[\w.]+) = "(?P<value>[^"]*)"$')


class ConceptRow(TypedDict):
    code: str | None
    system: str | None
    display: str | None


# "class" is a keyword, hence the functional form.
MappingRow = TypedDict(
    "MappingRow",
    {
        "type": str | None,
        "type_system": str | None,
        "class": str | None,
        "class_system": str | None,
    },
)


@final
class ValueSetTable(TypedDict):
    oid: str | None
    name: str | None
    revision: str | None
    source: str
    concepts: list[ConceptRow]


@final
class AssociationTable(TypedDict):
    oid: str | None
    name: str | None
    revision: str | None
    source: str
    mappings: list[MappingRow]


def _shared(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / name for name in names if (folder / name).is_file()), None)


def _value_set_element(path: Path) -> Element:
    root = ElementTree.parse(path).getroot()
    value_set = root.find(f"{SVS}ValueSet") if root is not None else None
    if value_set is None:
        raise SystemExit(f"{path}: no ValueSet element")
    return value_set


def _revision(value_set: Element) -> str | None:
    return (
        value_set.get("revisionDate") or value_set.get("effectiveDate") or value_set.get("dateMaj")
    )


def read_value_set(path: Path) -> ValueSetTable:
    value_set = _value_set_element(path)
    concepts: list[ConceptRow] = [
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
        "revision": _revision(value_set),
        "source": path.name,
        "concepts": concepts,
    }


def read_association(path: Path) -> AssociationTable:
    """An SVS association table (ASS_*): each MappedConcept pairs a source and a target concept."""
    value_set = _value_set_element(path)
    mappings: list[MappingRow] = []
    for mapped in value_set.iter(f"{SVS}MappedConcept"):
        pair = mapped.findall(f"{SVS}Concept")
        if len(pair) != 2:
            raise SystemExit(f"{path}: a MappedConcept without exactly two concepts")
        source, target = pair
        mappings.append(
            {
                "type": source.get("code"),
                "type_system": source.get("codeSystem"),
                "class": target.get("code"),
                "class_system": target.get("codeSystem"),
            }
        )
    return {
        "oid": value_set.get("id"),
        "name": value_set.get("displayName"),
        "revision": _revision(value_set),
        "source": path.name,
        "mappings": mappings,
    }


def read_fsh_value_set(path: Path, systems: dict[str, str | None]) -> ValueSetTable:
    """A value set in FHIR Shorthand, as the ANS terminology server exports it.

    FSH names each concept's code system by an alias (a FHIR URL), whereas CDA and XDS use the
    OID. ``systems`` maps a code to the OID the SVS tables give it (for classCodes: ASS_X04).
    """
    rules: dict[str, str] = {}
    concepts: list[ConceptRow] = []
    name = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("ValueSet:"):
            name = line.removeprefix("ValueSet:").strip()
        elif rule := FSH_RULE.match(line):
            rules[rule["key"]] = rule["value"]
        elif concept := FSH_CONCEPT.match(line):
            code = concept["code"]
            if code not in systems:
                raise SystemExit(f"{path}: no code system known for {concept['alias']}#{code}")
            concepts.append({"code": code, "system": systems[code], "display": concept["display"]})
    return {
        "oid": rules.get("identifier.value", "").removeprefix("urn:oid:") or None,
        "name": name,
        "revision": rules.get("date"),
        "source": path.name,
        "concepts": concepts,
    }


def build(source: Path) -> dict[str, ValueSetTable | AssociationTable]:
    folder = source / "jeuxDeValeurs"
    tables: dict[str, ValueSetTable | AssociationTable] = {
        name: read_value_set(folder / file_name) for file_name, name in TABLES.items()
    }
    type_to_class = read_association(_shared(folder, TYPE_TO_CLASS) or TYPE_TO_CLASS_VENDORED)
    class_systems = {
        m["class"]: m["class_system"] for m in type_to_class["mappings"] if m["class"] is not None
    }
    class_codes = _shared(folder, CLASS_CODES)
    tables["document_class"] = (
        read_value_set(class_codes)
        if class_codes is not None
        else read_fsh_value_set(CLASS_CODES_VENDORED, class_systems)
    )
    tables["document_type_class"] = type_to_class
    return tables


def _size(table: ValueSetTable | AssociationTable) -> str:
    if "mappings" in table:
        return f"{len(table['mappings'])} mappings"
    return f"{len(table['concepts'])} concepts"


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg != "--check"]
    check = "--check" in sys.argv[1:]
    source = Path(args[0]) if args else ROOT.parent / "shared" / "ci-sis"
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, table in build(source).items():
        target = OUT / f"{name}.json"
        text = json.dumps(table, ensure_ascii=False, indent=1) + "\n"
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target.relative_to(ROOT)))
            continue
        target.write_text(text, encoding="utf-8")
        print(f"{target.relative_to(ROOT)}: {_size(table)}")
    if stale:
        print("out of date: " + ", ".join(stale))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
