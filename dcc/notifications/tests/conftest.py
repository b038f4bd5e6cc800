"""A patient with a full care team around them, and an outside physician who breaks the glass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from dcc.accounts.choices import Role, StructureIdType, StructureKind
from dcc.accounts.models import Membership, Structure, User
from dcc.notifications.tests.smtp_server import SmtpServer, serve_smtp
from dcc.patients import services as patients
from dcc.patients.choices import IdentityStatus
from dcc.patients.models import EmergencyAccess, Patient

REASON = "Patient admis aux urgences, inconscient, antécédents oncologiques à connaître"


def member(email: str, structure: Structure, role: str, *, first: str, last: str) -> User:
    user = User.objects.create_user(email, "x", first_name=first, last_name=last)
    Membership.objects.create(user=user, structure=structure, role=role)
    return user


@pytest.fixture
def practice(structures: dict[str, Structure]) -> Structure:
    return Structure.objects.create(
        name="Cabinet du Parc",
        kind=StructureKind.PRIVATE_PRACTICE,
        national_id_type=StructureIdType.SIRET,
        national_id="12345678900011",
    )


@pytest.fixture
def gp(practice: Structure) -> User:
    """The patient's GP (médecin traitant), in private practice."""
    return member(
        "generaliste@cabinet.test",
        practice,
        Role.GENERAL_PRACTITIONER,
        first="Gérard",
        last="Traitant",
    )


@pytest.fixture
def nurse(structures: dict[str, Structure]) -> User:
    return member(
        "infirmiere@chu.test",
        structures["hospital"],
        Role.COORDINATING_NURSE,
        first="Inès",
        last="Soins",
    )


@pytest.fixture
def patient(
    rcp_secretary: User, oncologist: User, nurse: User, gp: User, structures: Any
) -> Patient:
    """Louis Garnier: registered by the RCP secretary, followed by the oncologist and the
    coordinating nurse, with Dr Traitant as GP."""
    identity = patients.Identity(
        birth_name="Garnier",
        birth_first_names="Louis",
        sex="M",
        birth_date=dt.date(1944, 9, 12),
        birth_place_code="69123",
        identity_status=IdentityStatus.PROVISIONAL,
    )
    patient = patients.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=identity
    )
    for user in (oncologist, nurse):
        patients.add_to_care_team(actor=rcp_secretary, patient=patient, member=user)
    Patient.objects.filter(pk=patient.pk).update(general_practitioner=gp)
    patient.refresh_from_db()
    return patient


@pytest.fixture
def break_glass(outsider: User, patient: Patient) -> Any:
    """Factory: the outside physician opens an emergency access to the patient."""

    def start(user: User = outsider) -> EmergencyAccess:
        return patients.start_emergency_access(
            actor=user, patient=patient, reason=REASON, authenticated_at=timezone.now()
        )

    return start


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """A real SMTP server on a free port of 127.0.0.1, Django's SMTP backend pointed at it."""
    yield from serve_smtp(settings)
