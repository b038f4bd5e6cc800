"""XDS document codes: typeCode (JDV_J07), classCode (JDV_J06 through ASS_X04), confidentiality."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from dcc.interop.terminology import oids, value_sets

ROOT = Path(__file__).resolve().parents[4]


def test_every_oncology_document_type_is_a_ci_sis_loinc_type_code() -> None:
    codes = value_sets.ONCOLOGY_DOCUMENT_TYPES
    assert len(set(codes)) == len(codes)
    for code in codes:
        concept = value_sets.document_type(code)
        assert concept is not None, f"{code} is not in JDV_J07"
        assert concept.system == oids.LOINC


def test_the_fiche_rcp_and_the_pps_are_offered_with_their_official_names() -> None:
    rcp = value_sets.document_type("34794-8")
    pps = value_sets.document_type("18776-5")
    assert rcp is not None and rcp.display == "CR de réunion de concertation pluridisciplinaire"
    assert pps is not None and pps.display == "Plan personnalisé de soins"
    assert "34794-8" in value_sets.ONCOLOGY_DOCUMENT_TYPES
    assert "18776-5" in value_sets.ONCOLOGY_DOCUMENT_TYPES


def test_document_types_hold_loinc_and_ci_sis_specific_codes() -> None:
    systems = {c.system for c in value_sets.document_types()}
    assert {oids.LOINC, oids.TRE_A05_TYPE_DOC_COMPLEMENTAIRE} <= systems
    assert len({c.code for c in value_sets.document_types()}) == len(value_sets.document_types())
    assert value_sets.document_type("SYNTH") is not None
    assert value_sets.document_type("00000-0") is None


def test_confidentiality_codes_are_hl7_levels_and_dmp_visibility_flags() -> None:
    codes = {c.code: c.system for c in value_sets.confidentiality_codes()}
    assert {code for code, system in codes.items() if system == oids.HL7_CONFIDENTIALITY} == {
        "N",
        "R",
        "V",
    }
    assert codes["MASQUE_PS"] == oids.TRE_A07_STATUT_VISIBILITE_DOCUMENT
    assert codes["INVISIBLE_PATIENT"] == oids.TRE_A07_STATUT_VISIBILITE_DOCUMENT


def test_a_document_class_follows_from_its_type() -> None:
    expected = {
        "34794-8": "10",  # fiche RCP: compte rendu
        "60568-3": "10",  # anatomopathologie: compte rendu
        "18776-5": "44",  # PPS: plan de soins
        "77604-7": "44",  # planification thérapeutique: plan de soins
        "18748-4": "31",  # imagerie: imagerie médicale
        "80565-5": "45",  # administration de médicaments: traitement administré
        "60591-5": "11",  # synthèse médicale: synthèse
        "59284-0": "95",  # attestation de consentement: document de gestion
        "SYNTH": "11",
    }
    for type_code, class_code in expected.items():
        concept = value_sets.document_class_for(type_code)
        assert concept is not None, type_code
        assert (concept.code, concept.system) == (class_code, oids.TRE_A03_CLASSE_DOCUMENT)
    rcp_class = value_sets.document_class_for("34794-8")
    assert rcp_class is not None and rcp_class.display == "Compte rendu"


def test_the_class_of_an_unknown_type_is_unknown() -> None:
    assert value_sets.document_class_for("00000-0") is None
    assert value_sets.document_class_for("") is None


def test_every_ci_sis_type_code_has_a_class_in_jdv_j06() -> None:
    missing = [
        c.code for c in value_sets.document_types() if not value_sets.document_class_for(c.code)
    ]
    assert missing == []
    for concept in value_sets.document_classes():
        if concept.code.isdigit():
            assert concept.system == oids.TRE_A03_CLASSE_DOCUMENT


def test_the_accessors_need_only_the_shipped_json_files() -> None:
    """Users have no ../shared: the accessors must not open anything outside data/."""
    script = textwrap.dedent(
        """
        import os
        import sys

        from dcc.interop.terminology import value_sets

        data = str(value_sets.DATA)

        def guard(event, args):
            if event != "open" or not isinstance(args[0], (str, bytes, os.PathLike)):
                return
            path = os.fsdecode(args[0])
            if path.endswith((".json", ".xml", ".fsh")) and not path.startswith(data):
                raise RuntimeError(f"opened {path}")

        sys.addaudithook(guard)
        assert value_sets.document_types()
        assert value_sets.document_type("60568-3") is not None
        assert value_sets.confidentiality_codes()
        assert value_sets.document_class_for("60568-3") is not None
        print("ok")
        """
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
