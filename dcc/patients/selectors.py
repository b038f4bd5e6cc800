"""The one path that decides which patients a professional may see.

A patient is visible to the members of their care team (added explicitly, or as the one who
registered them), to their GP, and to the clinical staff of a structure where they are
registered when that structure shares its patients. Anyone else gets nothing: every later
feature starts its queries from ``patients_visible_to`` so that a patient outside it answers
404, exactly like one that does not exist."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from dcc.accounts.models import Membership, User
from dcc.accounts.permissions import AnyUser
from dcc.core.compiled import INTEGER, MOMENT, UUID_VALUE, CompiledQuery
from dcc.patients.models import (
    CareTeamMember,
    CaseAccess,
    EmergencyAccess,
    Patient,
    PatientIdentifier,
)
from dcc.patients.permissions import REGISTERING_ROLES


def patients_cared_for_by(user: AnyUser) -> QuerySet[Patient]:
    """Patients the user takes part in caring for: care team, GP, a structure that shares its
    patients (unless the patient objected to sharing outside the team). Reading and, role
    permitting, writing are allowed."""
    if not isinstance(user, User) or not user.is_active:
        return Patient.objects.none()
    return Patient.objects.filter(_caring(user), merged_into__isnull=True)


def patients_visible_to(user: AnyUser) -> QuerySet[Patient]:
    """Every patient the user may read: those they care for, and, read-only, those of a
    current case access (RCP participants, see ``active_case_accesses``) or of an emergency
    access they opened (see ``emergency_access_for``)."""
    if not isinstance(user, User) or not user.is_active:
        return Patient.objects.none()
    here = OuterRef("pk")
    return Patient.objects.filter(
        _caring(user)
        | Exists(active_case_accesses(user).filter(patient=here))
        | Exists(active_emergency_accesses(user).filter(patient=here)),
        merged_into__isnull=True,
    )


def _caring(user: User) -> Q:
    """The caring relationships, each as a test of one patient row (correlated ``EXISTS``).

    Tested row by row rather than as sets: a sharing hospital registers 100,000 patients at
    regional scale, and building that set (an ``IN`` subquery, or a ``UNION`` semi-join the
    planner hashes) costs hundreds of milliseconds on every record opened, while probing the
    indexes for the rows at hand (one record, an INS, an IPP, the patients whose name starts
    with what was typed) costs microseconds per row."""
    here = OuterRef("pk")
    team = CareTeamMember.objects.filter(patient=here, user=user, ended_at__isnull=True)
    sharing = (
        Membership.objects.active()
        .filter(user=user, role__in=REGISTERING_ROLES, structure__shares_registered_patients=True)
        .values("structure_id")
    )
    registered = PatientIdentifier.objects.filter(patient=here, structure_id__in=sharing)
    return (
        Q(general_practitioner=user)
        | Exists(team)
        | (Q(objects_to_sharing=False) & Exists(registered))
    )


def active_case_accesses(user: User, now: dt.datetime | None = None) -> QuerySet[CaseAccess]:
    """The user's current time-bounded accesses (RCP participant): read-only."""
    now = now or timezone.now()
    return CaseAccess.objects.filter(
        user=user, revoked_at__isnull=True, starts_at__lte=now, ends_at__gt=now
    )


def active_emergency_accesses(
    user: User, now: dt.datetime | None = None
) -> QuerySet[EmergencyAccess]:
    return EmergencyAccess.objects.filter(
        user=user, ended_at__isnull=True, expires_at__gt=now or timezone.now()
    )


def emergency_access_for(user: AnyUser, patient: Patient) -> EmergencyAccess | None:
    """The user's open emergency access to this patient: reads under it are traced as such and
    writes are refused."""
    if not isinstance(user, User):
        return None
    return active_emergency_accesses(user).filter(patient=patient).first()


def can_view_patient(user: AnyUser, patient: Patient) -> bool:
    return patients_visible_to(user).filter(pk=patient.pk).exists()


def can_act_for_patient(user: AnyUser, patient: Patient) -> bool:
    """Writes (care team, identity, merge…) need a caring relationship: case and emergency
    accesses are read-only."""
    return patients_cared_for_by(user).filter(pk=patient.pk).exists()


def visible_patient(user: AnyUser, uuid: UUID | str) -> Patient | None:
    """The living patient ``uuid`` if the user may see it, in one statement, annotated with
    ``dcc_cared`` (True: a caring relationship; False: read-only, through a case or emergency
    access). What every patient page and API starts from."""
    if not isinstance(user, User) or not user.is_active:
        return None
    found = _VISIBLE_PATIENT.run(user=user.pk, uuid=uuid, now=timezone.now())
    # Decided here rather than in a WHERE clause repeating the CASE: the database then plans
    # the visibility tests once (planning is most of this statement's cost at regional scale).
    if not found or getattr(found[0], "dcc_cared", None) is None:
        return None
    return found[0]


def _visible_patient_query(user: int, uuid: UUID, now: dt.datetime) -> QuerySet[Patient]:
    someone = User(pk=user)
    here = OuterRef("pk")
    read_only = Exists(active_case_accesses(someone, now).filter(patient=here)) | Exists(
        active_emergency_accesses(someone, now).filter(patient=here)
    )
    return (
        Patient.objects.filter(uuid=uuid, merged_into__isnull=True)
        .select_related("general_practitioner")
        .annotate(
            dcc_cared=Case(
                When(_caring(someone), then=Value(True)),
                When(read_only, then=Value(False)),
                default=None,
                output_field=BooleanField(null=True),
            )
        )
        .order_by()
    )


# The page every clinician opens all day: compiled once (the ORM would spend ~3 ms of Python
# building this statement on each request, for ~0.2 ms of database work).
_VISIBLE_PATIENT = CompiledQuery(_visible_patient_query, user=INTEGER, uuid=UUID_VALUE, now=MOMENT)
