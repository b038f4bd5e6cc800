"""Registering patients and changing their identity: rules, versions, refusals, audit."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dcc.audit.models import AuditEvent
from dcc.patients import services
from dcc.patients.choices import IdentityEvidence, IdentityStatus, InsKind
from dcc.patients.models import Patient, PatientIdentifier, PatientIdentityVersion
from dcc.patients.selectors import can_view_patient

pytestmark = pytest.mark.django_db

# The ANS test identity: born in March 1979 in département 51 (INSEE 51215), female.
ANS_TEST_INS = "279035121518989"
MARIE = services.Identity(
    birth_name="  Dupont ",
    birth_first_names="Marie  Louise",
    sex="F",
    birth_date=dt.date(1979, 3, 14),
    birth_place_code="51215",
    used_name="Martin",
    ins_matricule="2 79 03 51 215 189 89",
    ins_kind=InsKind.TEST,
    identity_status=IdentityStatus.QUALIFIED,
    identity_evidence=IdentityEvidence.ID_CARD,
)


def test_a_secretary_registers_a_qualified_patient_with_an_ipp(
    rcp_secretary: Any, structures: Any
) -> None:
    patient = services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=MARIE, ipp="IPP-0001"
    )
    assert (patient.birth_name, patient.birth_first_names, patient.first_birth_first_name) == (
        "DUPONT",
        "Marie Louise",
        "Marie",
    )
    assert patient.ins_matricule == ANS_TEST_INS
    assert patient.may_share_ins
    assert PatientIdentifier.objects.get(patient=patient).value == "IPP-0001"
    version = PatientIdentityVersion.objects.get(patient=patient)
    assert version.version == 1 and version.identity["birth_date"] == "1979-03-14"
    event = AuditEvent.objects.get(action="patient.registered")
    assert event.patient_ref == str(patient.uuid)
    assert event.actor_user_id == str(rcp_secretary.uuid)


def test_only_a_qualified_identity_may_share_its_ins(rcp_secretary: Any, structures: Any) -> None:
    validated = dataclasses.replace(MARIE, identity_status=IdentityStatus.VALIDATED)
    patient = services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=validated
    )
    assert patient.ins_matricule and not patient.may_share_ins


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ins_matricule": "279035121518988"}, "ins_matricule"),  # wrong key
        ({"sex": "M"}, "ins_matricule"),  # contradicts the matricule's sex digit
        ({"birth_date": dt.date(1980, 3, 14)}, "ins_matricule"),  # contradicts the birth year
        ({"birth_date": dt.date(2999, 1, 1)}, "birth_date"),
        ({"birth_place_code": "7505"}, "birth_place_code"),
        ({"birth_place_code": "99999"}, "birth_place_code"),
        ({"birth_place_code": "33999"}, "birth_place_code"),
        ({"birth_name": "   "}, "birth_name"),
        ({"identity_evidence": ""}, "identity_evidence"),
        ({"ins_matricule": "", "ins_kind": ""}, "ins_matricule"),  # QUAL without INS
    ],
)
def test_bad_identities_are_refused_field_by_field_and_nothing_is_saved(
    rcp_secretary: Any, structures: Any, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        services.register_patient(
            actor=rcp_secretary,
            structure=structures["hospital"],
            identity=dataclasses.replace(MARIE, **changes),
        )
    assert field in error.value.message_dict
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.filter(action="patient.registered").exists()


def test_the_same_ins_with_the_same_traits_joins_the_existing_record(
    rcp_secretary: Any, outsider: Any, structures: Any
) -> None:
    """The INS is national: a second structure registering the same person (INSi-checked INS,
    same strict traits) registers them on the existing record, never a second one."""
    first = services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=MARIE, ipp="H-1"
    )
    again = services.register_patient(
        actor=outsider, structure=structures["other"], identity=MARIE, ipp="C-9"
    )
    assert again.pk == first.pk
    assert Patient.objects.count() == 1
    assert set(first.identifiers.values_list("value", flat=True)) == {"H-1", "C-9"}
    assert can_view_patient(outsider, first)
    event = AuditEvent.objects.filter(action="patient.registered").latest("id")
    assert '"existing_ins":true' in event.details


def test_the_same_ins_with_other_traits_is_refused(rcp_secretary: Any, structures: Any) -> None:
    services.register_patient(actor=rcp_secretary, structure=structures["hospital"], identity=MARIE)
    for other in (
        dataclasses.replace(MARIE, birth_first_names="Louise"),
        dataclasses.replace(MARIE, identity_status=IdentityStatus.VALIDATED),
    ):
        with pytest.raises(ValidationError, match="INS"):
            services.register_patient(
                actor=rcp_secretary,
                structure=structures["hospital"],
                identity=other,
                despite_possible_duplicates=True,
            )
    assert Patient.objects.count() == 1
    assert PatientIdentifier.objects.count() == 1


def test_an_ipp_belongs_to_one_patient_per_structure(rcp_secretary: Any, structures: Any) -> None:
    services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=MARIE, ipp="42"
    )
    other = dataclasses.replace(
        MARIE, ins_matricule="", ins_kind="", identity_status=IdentityStatus.PROVISIONAL
    )
    with pytest.raises(ValidationError) as error:
        services.register_patient(
            actor=rcp_secretary,
            structure=structures["hospital"],
            identity=other,
            ipp="42",
            despite_possible_duplicates=True,
        )
    assert "ipp" in error.value.message_dict


def test_registering_needs_a_role_in_the_structure_and_a_refusal_is_traced(
    outsider: Any, hospital_admin: Any, structures: Any
) -> None:
    for actor in (outsider, hospital_admin):
        with pytest.raises(PermissionDenied):
            services.register_patient(actor=actor, structure=structures["hospital"], identity=MARIE)
    assert not Patient.objects.exists()
    assert AuditEvent.objects.filter(action="patient.registered", outcome="denied").count() == 2


def test_an_identity_change_is_a_new_version_and_the_old_one_is_kept(
    rcp_secretary: Any, oncologist: Any, structures: Any
) -> None:
    patient = services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=MARIE, ipp="IPP-7"
    )
    changed = services.update_identity(
        actor=oncologist,
        patient=patient,
        identity=dataclasses.replace(MARIE, used_name="Durand"),
        reason="Nom d'usage après mariage",
    )
    assert changed.identity_version == 2 and changed.used_name == "DURAND"
    versions = list(
        PatientIdentityVersion.objects.filter(patient=patient).values_list("version", "identity")
    )
    assert [v for v, _ in versions] == [1, 2]
    assert versions[0][1]["used_name"] == "MARTIN"
    event = AuditEvent.objects.get(action="patient.identity_changed")
    assert event.resource_version == "2"
    assert "used_name" in event.details


def test_an_identity_change_needs_a_reason_and_a_role_where_the_patient_is_registered(
    rcp_secretary: Any, outsider: Any, structures: Any
) -> None:
    patient = services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=MARIE, ipp="1"
    )
    with pytest.raises(ValidationError):
        services.update_identity(actor=rcp_secretary, patient=patient, identity=MARIE, reason="")
    with pytest.raises(PermissionDenied):
        services.update_identity(
            actor=outsider, patient=patient, identity=MARIE, reason="Correction de saisie"
        )
    patient.refresh_from_db()
    assert patient.identity_version == 1


def test_a_birth_place_outside_the_matricule_departement_is_accepted(
    rcp_secretary: Any, structures: Any
) -> None:
    # Born in 1979 in département 51 by the matricule, registered with a Paris INSEE code: old
    # département codes (Seine, Seine-et-Oise, Algeria) make this legitimate for older people.
    moved = dataclasses.replace(MARIE, birth_place_code="75056")
    patient = services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=moved
    )
    assert patient.birth_place_code == "75056"
