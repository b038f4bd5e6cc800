"""The one path that decides which patients a professional may see.

A patient is visible to the members of their care team (added explicitly, or as the one who
registered them), to their GP, and to the clinical staff of a structure where they are
registered when that structure shares its patients. Anyone else gets nothing: every later
feature starts its queries from ``patients_visible_to`` so that a patient outside it answers
404, exactly like one that does not exist."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from dcc.accounts.models import Membership, User
from dcc.accounts.permissions import AnyUser
from dcc.patients import ins, matching
from dcc.patients.models import CareTeamMember, EmergencyAccess, Patient
from dcc.patients.permissions import REGISTERING_ROLES


def patients_visible_to(user: AnyUser) -> QuerySet[Patient]:
    if not isinstance(user, User) or not user.is_active:
        return Patient.objects.none()
    team = CareTeamMember.objects.filter(user=user, ended_at__isnull=True).values("patient_id")
    sharing = (
        Membership.objects.active()
        .filter(user=user, role__in=REGISTERING_ROLES, structure__shares_registered_patients=True)
        .values("structure_id")
    )
    emergency = active_emergency_accesses(user).values("patient_id")
    visible = (
        Q(pk__in=team)
        | Q(general_practitioner=user)
        | Q(identifiers__structure_id__in=sharing)
        | Q(pk__in=emergency)
    )
    return Patient.objects.filter(visible, merged_into__isnull=True).distinct()


def active_emergency_accesses(user: User) -> QuerySet[EmergencyAccess]:
    return EmergencyAccess.objects.filter(
        user=user, ended_at__isnull=True, expires_at__gt=timezone.now()
    )


def emergency_access_for(user: AnyUser, patient: Patient) -> EmergencyAccess | None:
    """The user's open emergency access to this patient: reads under it are traced as such and
    writes are refused."""
    if not isinstance(user, User):
        return None
    return active_emergency_accesses(user).filter(patient=patient).first()


def can_view_patient(user: AnyUser, patient: Patient) -> bool:
    return patients_visible_to(user).filter(pk=patient.pk).exists()


SEARCH_LIMIT = 50


def search_patients(
    user: AnyUser,
    *,
    text: str = "",
    birth_date: dt.date | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[Patient]:
    """Find visible patients by INS, hospital number (IPP) or name prefix, and birth date.

    ``text`` is tried as an INS matricule (15 characters once normalised), as an IPP, and as
    the start of the birth or used name, ignoring accents, case, spaces and hyphens ("dup"
    finds Dupont, Dupond and Du Pont). Only patients the user may see are searched, and no
    count of the others is ever computed."""
    visible = patients_visible_to(user)
    text = text.strip()
    if not text and birth_date is None:
        return []
    conditions = Q()
    if text:
        matricule = ins.normalise_matricule(text)
        key = matching.name_key(text)
        by_text = Q(identifiers__value=text)
        if len(matricule) == 15:
            by_text |= Q(ins_matricule=matricule)
        if key:
            by_text |= Q(birth_name_key__startswith=key) | Q(used_name_key__startswith=key)
        conditions &= by_text
    if birth_date is not None:
        conditions &= Q(birth_date=birth_date)
    ids = visible.filter(conditions).values("pk")
    return list(
        Patient.objects.filter(pk__in=ids).order_by("birth_name", "first_birth_first_name", "pk")[
            :limit
        ]
    )
