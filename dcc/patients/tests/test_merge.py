"""Merging two records of the same person, and undoing it: nothing lost, everything traced."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership
from dcc.audit.models import AuditEvent
from dcc.patients import services
from dcc.patients.choices import IdentityStatus
from dcc.patients.models import Patient, PatientIdentifier

pytestmark = pytest.mark.django_db

PAUL = services.Identity(
    birth_name="Lefebvre",
    birth_first_names="Paul",
    sex="M",
    birth_date=dt.date(1948, 11, 2),
    birth_place_code="59350",
    identity_status=IdentityStatus.PROVISIONAL,
)


@pytest.fixture
def twins(rcp_secretary: Any, structures: Any) -> tuple[Patient, Patient]:
    """The same man registered twice: at the hospital and at the network's clinic."""
    Membership.objects.create(
        user=rcp_secretary, structure=structures["network"], role=Role.RCP_SECRETARY
    )
    kept = services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=PAUL, ipp="H-1"
    )
    merged = services.register_patient(
        actor=rcp_secretary,
        structure=structures["network"],
        identity=dataclasses.replace(PAUL, birth_name="Lefèbvre", birth_date=dt.date(1948, 2, 11)),
        ipp="N-9",
        despite_possible_duplicates=True,
    )
    # The kept record is also known to a clinic outside the network.
    PatientIdentifier.objects.create(patient=kept, structure=structures["other"], value="O-5")
    return kept, merged


def _attached(patient: Patient) -> set[str]:
    return {
        f"{i.structure_id}:{i.value}" for i in PatientIdentifier.objects.filter(patient=patient)
    }


def test_merge_then_unmerge_gives_back_exactly_what_each_record_had(
    rcp_secretary: Any, structures: Any, twins: tuple[Patient, Patient]
) -> None:
    kept, merged = twins
    before_kept, before_merged = _attached(kept), _attached(merged)
    merge = services.merge_patients(
        actor=rcp_secretary, kept=kept, merged=merged, reason="Même patient, deux saisies"
    )
    merged.refresh_from_db()
    assert merged.merged_into_id == kept.pk
    assert _attached(kept) == before_kept | before_merged and _attached(merged) == set()
    assert AuditEvent.objects.filter(action="patient.merged").count() == 2
    assert {e.patient_ref for e in AuditEvent.objects.filter(action="patient.merged")} == {
        str(kept.uuid),
        str(merged.uuid),
    }
    restored = services.unmerge_patients(actor=rcp_secretary, merge=merge)
    assert restored.merged_into_id is None
    assert (_attached(kept), _attached(merged)) == (before_kept, before_merged)
    assert AuditEvent.objects.filter(action="patient.unmerged").count() == 2
    with pytest.raises(ValidationError):
        services.unmerge_patients(actor=rcp_secretary, merge=merge)
    assert Patient.objects.count() == 2


def test_two_hospital_numbers_in_one_structure_must_be_merged_at_the_hospital_first(
    rcp_secretary: Any, structures: Any, twins: tuple[Patient, Patient]
) -> None:
    kept, merged = twins
    PatientIdentifier.objects.create(patient=merged, structure=structures["hospital"], value="H-2")
    with pytest.raises(ValidationError, match="IPP"):
        services.merge_patients(
            actor=rcp_secretary, kept=kept, merged=merged, reason="Même patient"
        )
    merged.refresh_from_db()
    assert merged.merged_into_id is None


def test_records_with_different_ins_are_never_merged(rcp_secretary: Any, structures: Any) -> None:
    kept = services.register_patient(
        actor=rcp_secretary,
        structure=structures["hospital"],
        identity=dataclasses.replace(
            PAUL,
            sex="F",
            birth_date=dt.date(1979, 3, 14),
            birth_place_code="51215",
            ins_matricule="279035121518989",
            ins_kind="TEST",
            identity_status=IdentityStatus.RECOVERED,
        ),
        ipp="A",
    )
    other = services.register_patient(
        actor=rcp_secretary,
        structure=structures["hospital"],
        identity=dataclasses.replace(
            PAUL,
            sex="F",
            birth_date=dt.date(1979, 3, 14),
            birth_place_code="51215",
            ins_matricule="279035121518890",
            ins_kind="TEST",
            identity_status=IdentityStatus.RECOVERED,
        ),
        ipp="B",
        despite_possible_duplicates=True,
    )
    with pytest.raises(ValidationError, match="INS"):
        services.merge_patients(
            actor=rcp_secretary, kept=kept, merged=other, reason="Même patient ?"
        )


def test_only_someone_registering_patients_where_both_are_known_may_merge(
    outsider: Any, oncologist: Any, twins: tuple[Patient, Patient]
) -> None:
    kept, merged = twins
    for actor in (outsider, oncologist):  # the oncologist works at the hospital, not the network
        with pytest.raises(PermissionDenied):
            services.merge_patients(actor=actor, kept=kept, merged=merged, reason="Même patient")
    assert AuditEvent.objects.filter(action="patient.merged", outcome="denied").count() == 2
    merged.refresh_from_db()
    assert merged.merged_into_id is None


def test_a_merge_needs_a_reason_and_two_different_records(
    rcp_secretary: Any, twins: tuple[Patient, Patient]
) -> None:
    kept, merged = twins
    with pytest.raises(ValidationError):
        services.merge_patients(actor=rcp_secretary, kept=kept, merged=merged, reason="")
    with pytest.raises(ValidationError):
        services.merge_patients(actor=rcp_secretary, kept=kept, merged=kept, reason="Même patient")
