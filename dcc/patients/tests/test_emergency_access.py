"""Break-glass: justified, freshly authenticated, time-boxed, refused on objection, traced."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dcc.accounts.models import User
from dcc.audit.models import AuditEvent
from dcc.patients import services
from dcc.patients.choices import IdentityStatus
from dcc.patients.models import EmergencyAccess, Patient
from dcc.patients.selectors import can_view_patient, emergency_access_for

pytestmark = pytest.mark.django_db

REASON = "Patient admis aux urgences, inconscient, antécédents oncologiques à connaître"


@pytest.fixture
def patient(rcp_secretary: User, structures: Any) -> Patient:
    identity = services.Identity(
        birth_name="Garnier",
        birth_first_names="Louis",
        sex="M",
        birth_date=dt.date(1944, 9, 12),
        birth_place_code="69123",
        identity_status=IdentityStatus.PROVISIONAL,
    )
    return services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=identity
    )


def _start(user: User, patient: Patient, **overrides: Any) -> EmergencyAccess:
    arguments: dict[str, Any] = {"reason": REASON, "authenticated_at": timezone.now()}
    arguments.update(overrides)
    return services.start_emergency_access(actor=user, patient=patient, **arguments)


def test_an_outside_physician_opens_a_four_hour_emergency_access_traced_as_such(
    outsider: User, patient: Patient
) -> None:
    assert not can_view_patient(outsider, patient)
    access = _start(outsider, patient)
    assert can_view_patient(outsider, patient)
    assert emergency_access_for(outsider, patient) == access
    assert (
        dt.timedelta(hours=3, minutes=59)
        < access.expires_at - timezone.now()
        <= dt.timedelta(hours=4)
    )
    event = AuditEvent.objects.get(action="patient.emergency_access_started")
    assert (event.purpose, event.patient_ref, event.actor_user_id) == (
        "emergency",
        str(patient.uuid),
        str(outsider.uuid),
    )


def test_the_access_ends_when_it_expires_or_is_closed(outsider: User, patient: Patient) -> None:
    access = _start(outsider, patient)
    EmergencyAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert not can_view_patient(outsider, patient)
    second = _start(outsider, patient)
    services.end_emergency_access(actor=outsider, access=second)
    assert not can_view_patient(outsider, patient)
    assert (
        AuditEvent.objects.filter(
            action="patient.emergency_access_ended", purpose="emergency"
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": "Urgence"}, "reason"),
        ({"authenticated_at": timezone.now() - dt.timedelta(minutes=6)}, "authentication"),
    ],
)
def test_a_short_reason_or_a_stale_authentication_is_refused(
    outsider: User, patient: Patient, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        _start(outsider, patient, **overrides)
    assert field in error.value.message_dict
    assert not EmergencyAccess.objects.exists()


def test_a_patient_who_objected_cannot_be_opened_in_emergency(
    outsider: User, patient: Patient
) -> None:
    Patient.objects.filter(pk=patient.pk).update(objects_to_sharing=True)
    patient.refresh_from_db()
    with pytest.raises(PermissionDenied, match="opposé"):
        _start(outsider, patient)
    assert not can_view_patient(outsider, patient)
    assert (
        AuditEvent.objects.filter(
            action="patient.emergency_access_started", outcome="denied"
        ).count()
        == 1
    )


def test_non_clinical_roles_cannot_break_the_glass(
    hospital_admin: User, security_officer: User, patient: Patient
) -> None:
    for user in (hospital_admin, security_officer):
        with pytest.raises(PermissionDenied):
            _start(user, patient)
    assert not EmergencyAccess.objects.exists()


def test_a_care_team_member_does_not_need_it_and_only_the_holder_closes_it(
    rcp_secretary: User, outsider: User, patient: Patient
) -> None:
    with pytest.raises((ValidationError, PermissionDenied)):
        _start(rcp_secretary, patient)
    access = _start(outsider, patient)
    with pytest.raises(PermissionDenied):
        services.end_emergency_access(actor=rcp_secretary, access=access)


def test_an_objection_closes_the_open_emergency_accesses(
    oncologist: User, outsider: User, rcp_secretary: User, patient: Patient
) -> None:
    access = _start(outsider, patient)
    services.set_sharing_objection(
        actor=rcp_secretary, patient=patient, objects=True, reason="Exprimée par écrit"
    )
    access.refresh_from_db()
    assert access.ended_at is not None
    assert not can_view_patient(outsider, patient)
    with pytest.raises(PermissionDenied):
        _start(outsider, patient)
