"""Who sees a patient: care team, GP, staff of a sharing structure — nobody else."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, Structure, User
from dcc.audit.models import AuditEvent
from dcc.patients import services
from dcc.patients.choices import CareTeamSource, CaseAccessSource, IdentityStatus
from dcc.patients.models import CareTeamMember, CaseAccess, EmergencyAccess, Patient
from dcc.patients.selectors import can_view_patient, patients_visible_to, visible_patient

pytestmark = pytest.mark.django_db

JEANNE = services.Identity(
    birth_name="Moreau",
    birth_first_names="Jeanne",
    sex="F",
    birth_date=dt.date(1956, 5, 21),
    birth_place_code="33063",
    identity_status=IdentityStatus.PROVISIONAL,
)


@pytest.fixture
def jeanne(rcp_secretary: Any, structures: dict[str, Structure]) -> Patient:
    return services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=JEANNE, ipp="77"
    )


def test_the_professional_who_registers_a_patient_is_in_the_care_team(
    rcp_secretary: Any, jeanne: Patient
) -> None:
    assert list(patients_visible_to(rcp_secretary)) == [jeanne]


def test_colleagues_see_the_patient_only_when_the_structure_shares_its_patients(
    oncologist: User, jeanne: Patient, structures: dict[str, Structure]
) -> None:
    assert not can_view_patient(oncologist, jeanne)
    Structure.objects.filter(pk=structures["hospital"].pk).update(shares_registered_patients=True)
    assert can_view_patient(oncologist, jeanne)


def test_administrators_security_officers_and_outsiders_see_nothing(
    hospital_admin: User,
    security_officer: User,
    outsider: User,
    jeanne: Patient,
    structures: dict[str, Structure],
) -> None:
    Structure.objects.filter(pk=structures["hospital"].pk).update(shares_registered_patients=True)
    for user in (hospital_admin, security_officer, outsider):
        assert not patients_visible_to(user).exists()


def test_the_gp_sees_their_patient(outsider: User, jeanne: Patient) -> None:
    Patient.objects.filter(pk=jeanne.pk).update(general_practitioner=outsider)
    assert can_view_patient(outsider, jeanne)


def test_deactivated_users_and_merged_aliases_are_never_visible(
    rcp_secretary: User, jeanne: Patient
) -> None:
    rcp_secretary.is_active = False
    assert not patients_visible_to(rcp_secretary).exists()
    rcp_secretary.is_active = True
    other = Patient.objects.create(
        birth_name="MOREAU",
        birth_first_names="Jeanne",
        first_birth_first_name="Jeanne",
        sex="F",
        birth_date=JEANNE.birth_date,
        birth_place_code="33063",
        merged_into=jeanne,
    )
    assert other not in patients_visible_to(rcp_secretary)


def test_a_team_member_adds_and_removes_a_colleague_and_both_are_traced(
    rcp_secretary: User, oncologist: User, outsider: User, jeanne: Patient
) -> None:
    member = services.add_to_care_team(actor=rcp_secretary, patient=jeanne, member=outsider)
    assert can_view_patient(outsider, jeanne)
    with pytest.raises(ValidationError):
        services.add_to_care_team(actor=rcp_secretary, patient=jeanne, member=outsider)
    services.remove_from_care_team(actor=rcp_secretary, member=member)
    assert not can_view_patient(outsider, jeanne)
    assert (
        AuditEvent.objects.filter(action="patient.care_team_changed", outcome="success").count()
        == 2
    )


def test_someone_outside_the_team_cannot_change_it(
    oncologist: User, outsider: User, jeanne: Patient
) -> None:
    with pytest.raises(PermissionDenied):
        services.add_to_care_team(actor=outsider, patient=jeanne, member=oncologist)
    assert not can_view_patient(oncologist, jeanne)
    assert (
        AuditEvent.objects.filter(action="patient.care_team_changed", outcome="denied").count() == 1
    )


def test_registrations_without_a_hospital_number_do_not_block_a_merge(
    rcp_secretary: User, structures: dict[str, Structure]
) -> None:
    Membership.objects.create(
        user=rcp_secretary, structure=structures["network"], role=Role.RCP_SECRETARY
    )
    kept = services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=JEANNE
    )
    merged = services.register_patient(
        actor=rcp_secretary,
        structure=structures["hospital"],
        identity=JEANNE,
        despite_possible_duplicates=True,
    )
    services.merge_patients(actor=rcp_secretary, kept=kept, merged=merged, reason="Saisi deux fois")
    merged.refresh_from_db()
    assert merged.merged_into_id == kept.pk


def _opened(user: User, patient: Patient) -> bool | None:
    """What the record page decides: True (caring), False (read-only) or None (404)."""
    found = visible_patient(user, patient.uuid)
    return None if found is None else bool(found.dcc_cared)  # type: ignore[attr-defined]


def test_the_record_page_check_follows_every_change_at_once(
    rcp_secretary: User,
    oncologist: User,
    outsider: User,
    jeanne: Patient,
    structures: dict[str, Structure],
) -> None:
    """``visible_patient`` runs one statement compiled once for everybody (dcc.core.compiled):
    each user gets their own answer, and each change of footing shows on the next request."""
    now = timezone.now()
    hospital = structures["hospital"]
    assert _opened(rcp_secretary, jeanne) is True
    assert _opened(oncologist, jeanne) is None
    assert _opened(outsider, jeanne) is None
    # Sharing structure, then the patient's objection.
    Structure.objects.filter(pk=hospital.pk).update(shares_registered_patients=True)
    assert _opened(oncologist, jeanne) is True
    Patient.objects.filter(pk=jeanne.pk).update(objects_to_sharing=True)
    assert _opened(oncologist, jeanne) is None
    assert _opened(rcp_secretary, jeanne) is True
    # GP.
    Patient.objects.filter(pk=jeanne.pk).update(general_practitioner=outsider)
    assert _opened(outsider, jeanne) is True
    Patient.objects.filter(pk=jeanne.pk).update(general_practitioner=None)
    assert _opened(outsider, jeanne) is None
    # A case access: read-only while current, gone once over or revoked.
    access = CaseAccess.objects.create(
        patient=jeanne,
        user=outsider,
        source=CaseAccessSource.RCP_MEETING,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
    )
    assert _opened(outsider, jeanne) is False
    CaseAccess.objects.filter(pk=access.pk).update(ends_at=now - dt.timedelta(minutes=1))
    assert _opened(outsider, jeanne) is None
    CaseAccess.objects.filter(pk=access.pk).update(
        ends_at=now + dt.timedelta(hours=1), revoked_at=now
    )
    assert _opened(outsider, jeanne) is None
    # An emergency access: read-only until it ends.
    emergency = EmergencyAccess.objects.create(
        patient=jeanne, user=outsider, reason="x" * 20, expires_at=now + dt.timedelta(hours=4)
    )
    assert _opened(outsider, jeanne) is False
    EmergencyAccess.objects.filter(pk=emergency.pk).update(ended_at=now)
    assert _opened(outsider, jeanne) is None
    # Team membership ended, account deactivated, record merged away.
    CareTeamMember.objects.filter(patient=jeanne, user=rcp_secretary).update(ended_at=now)
    assert _opened(rcp_secretary, jeanne) is None
    CareTeamMember.objects.create(patient=jeanne, user=oncologist, source=CareTeamSource.EXPLICIT)
    assert _opened(oncologist, jeanne) is True
    oncologist.is_active = False
    assert _opened(oncologist, jeanne) is None
    oncologist.is_active = True
    Patient.objects.filter(pk=jeanne.pk).update(
        merged_into=Patient.objects.create(
            birth_name="MOREAU",
            birth_first_names="Jeanne",
            first_birth_first_name="Jeanne",
            sex="F",
            birth_date=JEANNE.birth_date,
            birth_place_code="33063",
        )
    )
    assert _opened(oncologist, jeanne) is None
    assert _opened(oncologist, Patient(uuid=uuid.uuid4())) is None
