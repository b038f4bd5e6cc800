"""What the patient record page shows about the patient, read in one statement whatever the
size of the care team or the history (the page is opened all day long).

The care team with its members' roles, the registrations, the recent emergency accesses and
the merged records are read as JSON lists beside the patient's id (``dcc.core.aggregates``),
in one compiled statement (``dcc.core.compiled``): one round trip instead of five."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership
from dcc.core.aggregates import JSONList, moment
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


@dataclass(frozen=True)
class TeamMember:
    full_name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Registration:
    structure: str
    value: str


@dataclass(frozen=True)
class Emergency:
    user: str
    reason: str
    created_at: dt.datetime | None
    expires_at: dt.datetime | None
    ended_at: dt.datetime | None

    def is_open(self, now: dt.datetime) -> bool:
        return self.ended_at is None and self.expires_at is not None and self.expires_at > now


@dataclass(frozen=True)
class Merge:
    merged: UUID
    label: str
    performed_at: dt.datetime | None
    reason: str


def _day(value: Any) -> str:
    """A date read back from JSON (ISO text on both databases), as the French short form."""
    try:
        return dt.date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def _full_name(first: str, last: str) -> str:
    return f"{first} {last.upper()}".strip()


def record_header(patient: Patient) -> dict[str, Any]:
    now = timezone.now()
    found = _HEADER.run(patient=patient.pk, since=now - RECENT_EMERGENCY)
    row: Any = found[0] if found else None
    role_names = dict(Role.choices)
    roles: dict[int, list[str]] = {}
    for item in sorted(getattr(row, "roles", None) or [], key=lambda r: (r["s"], r["r"])):
        roles.setdefault(item["u"], []).append(
            f"{role_names.get(item['r'], item['r'])} — {item['s']}"
        )
    team = [
        TeamMember(_full_name(m["f"], m["l"]), tuple(roles.get(m["u"], ())))
        for m in sorted(getattr(row, "team", None) or [], key=lambda m: (m["l"], m["f"], m["u"]))
    ]
    registrations = [
        Registration(r["s"], r["v"])
        for r in sorted(getattr(row, "registrations", None) or [], key=lambda r: r["s"])
    ]
    emergencies = sorted(
        (
            Emergency(
                _full_name(e["f"], e["l"]),
                e["reason"],
                moment(e["c"]),
                moment(e["x"]),
                moment(e["e"]),
            )
            for e in getattr(row, "emergencies", None) or []
        ),
        key=lambda e: e.created_at or now,
        reverse=True,
    )
    merges = sorted(
        (
            Merge(
                UUID(str(m["id"])),
                f"{m['n'].upper()} {m['p']} ({_day(m['b'])})",
                moment(m["at"]),
                m["reason"],
            )
            for m in getattr(row, "merges", None) or []
        ),
        key=lambda m: m.performed_at or now,
        reverse=True,
    )
    # Read with the patient (``visible_patient`` joins it): no query of its own.
    gp = patient.general_practitioner
    alerts: list[Alert] = []
    open_emergencies = [e for e in emergencies if e.is_open(now)]
    if open_emergencies:
        alerts.append(
            Alert(
                "warning",
                _("Accès en urgence en cours par %(names)s.")
                % {"names": ", ".join(e.user for e in open_emergencies)},
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
        "care_team": team,
        "gp": gp,
        "registrations": registrations,
        "emergencies": emergencies,
        "open_emergencies": open_emergencies,
        "merges": merges,
        "alerts": alerts,
    }


def care_team_with_roles(patient: Patient) -> list[tuple[CareTeamMember, list[str]]]:
    """The care team page's rows (members with their roles), through the ORM: two queries."""
    team = list(
        CareTeamMember.objects.filter(patient=patient, ended_at__isnull=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    roles: dict[int, list[str]] = {}
    for membership in (
        Membership.objects.active()
        .filter(user_id__in=[m.user_id for m in team])
        .select_related("structure")
        .order_by("structure__name", "role")
    ):
        roles.setdefault(membership.user_id, []).append(
            f"{membership.get_role_display()} — {membership.structure.name}"
        )
    return [(member, roles.get(member.user_id, [])) for member in team]


def _list(queryset: QuerySet[Any], **fields: Any) -> Subquery:
    """The rows of ``queryset`` (filtered on the outer patient) as one JSON array."""
    return Subquery(
        queryset.order_by()
        .values("patient_key")
        .annotate(items=JSONList(JSONObject(**fields)))
        .values("items")
    )


def _header(patient: int, since: dt.datetime) -> QuerySet[Patient]:
    here = OuterRef("pk")
    team = CareTeamMember.objects.filter(patient=here, ended_at__isnull=True)
    return (
        Patient.objects.filter(pk=patient)
        .only("pk")
        .annotate(
            team=_list(
                team.annotate(patient_key=F("patient_id")),
                u=F("user_id"),
                f=F("user__first_name"),
                l=F("user__last_name"),
            ),
            roles=_list(
                Membership.objects.active()
                .filter(user_id__in=team.values("user_id"))
                .annotate(patient_key=here),
                u=F("user_id"),
                r=F("role"),
                s=F("structure__name"),
            ),
            registrations=_list(
                PatientIdentifier.objects.filter(patient=here).annotate(
                    patient_key=F("patient_id")
                ),
                s=F("structure__name"),
                v=F("value"),
            ),
            emergencies=_list(
                EmergencyAccess.objects.filter(patient=here, created_at__gte=since).annotate(
                    patient_key=F("patient_id")
                ),
                f=F("user__first_name"),
                l=F("user__last_name"),
                reason=F("reason"),
                c=F("created_at"),
                x=F("expires_at"),
                e=F("ended_at"),
            ),
            merges=_list(
                PatientMerge.objects.filter(kept=here, undone_at__isnull=True).annotate(
                    patient_key=F("kept_id")
                ),
                id=F("merged__uuid"),
                n=F("merged__birth_name"),
                p=F("merged__first_birth_first_name"),
                b=F("merged__birth_date"),
                at=F("performed_at"),
                reason=F("reason"),
            ),
        )
    )


_HEADER = CompiledQuery(_header, patient=INTEGER, since=MOMENT)
