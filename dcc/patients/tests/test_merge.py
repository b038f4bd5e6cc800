"""Merging two records of the same person, and undoing it: nothing lost, everything traced."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, User
from dcc.audit.models import AuditEvent
from dcc.documents.models import Document, StoredBlob
from dcc.patients import services
from dcc.patients.choices import CareTeamSource, CaseAccessSource, IdentityStatus
from dcc.patients.models import (
    CareTeamMember,
    CaseAccess,
    Patient,
    PatientIdentifier,
    PatientMerge,
)

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


# --- Property: whatever the sequence of merges and unmerges, nothing attached is ever lost,
# everything follows the surviving record, and undoing everything gives back the start.

OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["merge", "unmerge"]), st.integers(0, 3), st.integers(0, 3)),
    max_size=8,
)
ATTACHMENTS = st.lists(
    st.tuples(
        st.sampled_from(["ipp", "team", "case", "document"]), st.integers(0, 3), st.integers(0, 2)
    ),
    max_size=10,
)


def _root(patient_id: int) -> int:
    current = Patient.objects.get(pk=patient_id)
    while current.merged_into_id is not None:
        current = Patient.objects.get(pk=current.merged_into_id)
    return current.pk


def _placement() -> dict[str, int]:
    rows: dict[str, int] = {}
    for model in (PatientIdentifier, CareTeamMember, CaseAccess, Document):
        for row_uuid, patient_id in model.objects.values_list("uuid", "patient_id"):
            rows[f"{model.__name__}:{row_uuid}"] = patient_id
    return rows


def _document(patient: Patient, author: User, n: int) -> Document:
    """A document row as the documents app writes it (its blob row only: placement is what
    is checked here; the content round trip is in dcc/documents/tests/test_merge_documents.py)."""
    blob = StoredBlob.objects.create(
        store="local",
        key=f"merge-test-{n}-{patient.pk}",
        kind="text",
        mime_type="text/plain",
        size=1,
        sha256="0" * 64,
        file_name="note.txt",
        segment_size=65536,
        nonce_prefix=b"\0" * 7,
        key_id="k1",
        wrapped_key=b"\0" * 40,
    )
    return Document.objects.create(
        patient=patient,
        set_id=uuid.uuid4(),
        type_code="60568-3",
        title=f"Compte rendu {n}",
        act_date=dt.date(2026, 1, 1),
        author=author,
        uploaded_by=author,
        blob=blob,
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(attachments=ATTACHMENTS, operations=OPERATIONS)
def test_merges_and_unmerges_never_lose_anything_attached(
    rcp_secretary: Any, structures: Any, attachments: Any, operations: Any
) -> None:
    with transaction.atomic():
        helpers = [
            User.objects.create_user(f"aide{i}@test.dcc", "x", first_name="A", last_name=str(i))
            for i in range(3)
        ]
        patients = [
            services.register_patient(
                actor=rcp_secretary,
                structure=structures["hospital"],
                identity=dataclasses.replace(PAUL, birth_name=name),
                despite_possible_duplicates=True,
            )
            for name in ("Lefebvre", "Lefèvre", "Le Febvre", "Lefebre")
        ]
        places = [structures["network"], structures["other"], structures["hospital"]]
        now = timezone.now()
        for n, (kind, target, which) in enumerate(attachments):
            patient = patients[target]
            if kind == "ipp":
                PatientIdentifier.objects.create(
                    patient=patient, structure=places[which], value=f"X-{n}"
                )
            elif (
                kind == "team"
                and not CareTeamMember.objects.filter(
                    patient=patient, user=helpers[which], ended_at__isnull=True
                ).exists()
            ):
                CareTeamMember.objects.create(
                    patient=patient, user=helpers[which], source=CareTeamSource.EXPLICIT
                )
            elif kind == "document":
                _document(patient, helpers[which], n)
            elif kind == "case":
                CaseAccess.objects.create(
                    patient=patient,
                    user=helpers[which],
                    source=CaseAccessSource.RCP_MEETING,
                    starts_at=now,
                    ends_at=now + dt.timedelta(hours=1),
                )
        start = _placement()
        done: list[PatientMerge] = []
        for operation, i, j in operations:
            try:
                if operation == "merge":
                    done.append(
                        services.merge_patients(
                            actor=rcp_secretary,
                            kept=Patient.objects.get(pk=patients[i].pk),
                            merged=Patient.objects.get(pk=patients[j].pk),
                            reason="Même patient",
                        )
                    )
                elif done:
                    services.unmerge_patients(actor=rcp_secretary, merge=done[i % len(done)])
            except ValidationError:
                pass  # refused (same record, already merged, IPP clash…): nothing changed
            now_at = _placement()
            assert now_at.keys() == start.keys()  # nothing lost, nothing created
            for key, original in start.items():
                # Everything is reachable from the living record of the patient it belonged to.
                assert _root(now_at[key]) == _root(original), key
                if not key.startswith("CareTeamMember"):
                    assert now_at[key] == _root(original), key
        for merge in reversed(PatientMerge.objects.filter(undone_at__isnull=True).order_by("id")):
            services.unmerge_patients(actor=rcp_secretary, merge=merge)
        assert _placement() == start
        assert not Patient.objects.filter(merged_into__isnull=False).exists()
        transaction.set_rollback(True)
