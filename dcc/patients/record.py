"""What the patient record page shows about the patient, read in a fixed number of queries
whatever the size of the care team or the history (the page is opened all day long)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dcc.accounts.models import Membership
from dcc.core.compiled import INTEGER, MOMENT, CompiledQuery
from dcc.patients.choices import IdentityStatus
from dcc.patients.models import (
    CareTeamMember,
    EmergencyAccess,
    Patient,
    PatientIdentifier,
    PatientMerge,
)

RECENT_EMERGENCY = dt.timedelta(days=30)


@dataclass(frozen=True)
class Alert:
    level: str  # "warning" or "info"
    text: str


def record_header(patient: Patient) -> dict[str, Any]:
    now = timezone.now()
    team = _CARE_TEAM.run(patient=patient.pk)
    roles: dict[int, list[str]] = {}
    for membership in _TEAM_ROLES.run(patient=patient.pk):
        roles.setdefault(membership.user_id, []).append(
            f"{membership.get_role_display()} — {membership.structure.name}"
        )
    # Read with the patient (``visible_patient`` joins it): no query of its own.
    gp = patient.general_practitioner
    registrations = _REGISTRATIONS.run(patient=patient.pk)
    emergencies = _EMERGENCIES.run(patient=patient.pk, since=now - RECENT_EMERGENCY)
    merges = _MERGES.run(patient=patient.pk)
    alerts: list[Alert] = []
    open_emergencies = [e for e in emergencies if e.ended_at is None and e.expires_at > now]
    if open_emergencies:
        alerts.append(
            Alert(
                "warning",
                _("Accès en urgence en cours par %(names)s.")
                % {"names": ", ".join(e.user.full_name for e in open_emergencies)},
            )
        )
    if patient.objects_to_sharing:
        alerts.append(
            Alert(
                "warning",
                _(
                    "Le patient s'oppose au partage de son dossier hors de son équipe de soins : "
                    "pas d'accès en urgence, pas de partage avec les autres professionnels des "
                    "structures."
                ),
            )
        )
    if patient.identity_status == IdentityStatus.PROVISIONAL:
        alerts.append(
            Alert(
                "info",
                _(
                    "Identité provisoire : à valider sur présentation d'une pièce d'identité "
                    "et à qualifier par le téléservice INSi."
                ),
            )
        )
    if patient.ins_matricule and not patient.may_share_ins:
        alerts.append(
            Alert(
                "info",
                _("Identité non qualifiée : le matricule INS ne peut pas être transmis."),
            )
        )
    return {
        "care_team": [(m, roles.get(m.user_id, [])) for m in team],
        "gp": gp,
        "registrations": registrations,
        "emergencies": emergencies,
        "open_emergencies": open_emergencies,
        "merges": merges,
        "alerts": alerts,
    }


# Compiled once (see ``dcc.core.compiled``): the record page is opened all day long, and
# building these five statements through the ORM would cost more than running them.


def _active_team(patient: int) -> QuerySet[CareTeamMember]:
    return CareTeamMember.objects.filter(patient_id=patient, ended_at__isnull=True)


_CARE_TEAM = CompiledQuery(
    lambda patient: (
        _active_team(patient)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    ),
    patient=INTEGER,
)
_TEAM_ROLES = CompiledQuery(
    lambda patient: (
        Membership.objects.active()
        .filter(user_id__in=_active_team(patient).values("user_id"))
        .select_related("structure")
        .order_by("structure__name", "role", "pk")
    ),
    patient=INTEGER,
)
_REGISTRATIONS = CompiledQuery(
    lambda patient: (
        PatientIdentifier.objects.filter(patient_id=patient)
        .select_related("structure")
        .order_by("structure__name", "pk")
    ),
    patient=INTEGER,
)
_EMERGENCIES = CompiledQuery(
    lambda patient, since: (
        EmergencyAccess.objects.filter(patient_id=patient, created_at__gte=since)
        .select_related("user")
        .order_by("-created_at", "-pk")
    ),
    patient=INTEGER,
    since=MOMENT,
)
_MERGES = CompiledQuery(
    lambda patient: (
        PatientMerge.objects.filter(kept_id=patient, undone_at__isnull=True)
        .select_related("merged")
        .order_by("-performed_at", "-pk")
    ),
    patient=INTEGER,
)
