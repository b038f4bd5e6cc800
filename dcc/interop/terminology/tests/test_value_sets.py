"""The shipped code tables are the CI-SIS value sets, not hand-copied codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dcc.interop.terminology import oids, value_sets

ROOT = Path(__file__).resolve().parents[4]
SHARED_CI_SIS = Path(os.environ.get("DCC_SHARED_DIR", ROOT.parent / "shared")) / "ci-sis"


def test_professions_and_specialties_come_from_tre_g15() -> None:
    professions = {c.code: c.display for c in value_sets.professions()}
    assert professions["G15_10"] == "Médecin"
    assert "G15_60" in professions  # infirmier
    assert all(c.system == oids.TRE_G15_PROFESSION for c in value_sets.specialties())
    assert all(c.code.split("/")[0] in professions for c in value_sets.specialties())
    assert value_sets.display("G15_10/SM36").startswith("Médecin - Oncologie")


SHIPPED_OIDS = {
    "author_specialty": oids.JDV_J01_AUTHOR_SPECIALTY,
    "document_type": oids.JDV_J07_XDS_TYPE_CODE,
    "confidentiality": oids.JDV_J08_XDS_CONFIDENTIALITY_CODE,
    "document_class": oids.JDV_J06_XDS_CLASS_CODE,
    "document_type_class": oids.ASS_X04_TYPE_TO_CLASS,
}


def test_the_shipped_tables_match_the_official_value_sets(tmp_path: Path) -> None:
    if not SHARED_CI_SIS.is_dir():
        if os.environ.get("CI"):
            pytest.fail("../shared/ci-sis is missing in CI")
        pytest.skip("../shared/ci-sis not available on this machine")
    for name, oid in SHIPPED_OIDS.items():
        shipped = json.loads((value_sets.DATA / f"{name}.json").read_text(encoding="utf-8"))
        assert shipped["oid"] == oid, name
    rebuilt = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_code_tables.py"),
            str(SHARED_CI_SIS),
            "--check",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
