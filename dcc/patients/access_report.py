"""The patient's access report: who opened or changed their record, when, and why.

It is read straight from the audit trail (``AuditEvent``, hash-chained), never from a copy,
for the patient and every record merged into them, so that a merge loses no trace. Names are
looked up once for a page, or once for a whole export, not once per row. Reading the trail
changes nothing in it: the only write is the one event the screen records for the report
itself.

Dates are given in Europe/Paris local time: the report is read by the patient, in France."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q, QuerySet, TextChoices
from django.utils.translation import gettext as _

from dcc.accounts.choices import Role
from dcc.accounts.models import Structure, User
from dcc.audit.choices import Action, Outcome, Purpose
from dcc.audit.models import AuditEvent
from dcc.patients.models import Patient

REPORT_TIME_ZONE = ZoneInfo("Europe/Paris")
PAGE_SIZE = 50
EXPORT_CHUNK = 2000


@dataclass(frozen=True)
class Period:
    """Whole days, both included, in the report's time zone; open when a bound is missing."""

    start: dt.date | None = None
    end: dt.date | None = None

    def as_details(self) -> dict[str, str]:
        return {
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
        }


@dataclass(frozen=True)
class AccessRow:
    """One access to the record, in words a patient can read."""

    event_uuid: uuid.UUID
    occurred_at: dt.datetime  # aware, in REPORT_TIME_ZONE
    who: str
    rpps: str
    role: str
    structure: str
    what: str
    purpose: str
    emergency: bool
    outcome: str
    succeeded: bool


@dataclass(frozen=True)
class ReportPage:
    rows: list[AccessRow]
    older_cursor: str  # UUID of the oldest event shown, when older ones exist
    first: bool  # no cursor was followed: this is the newest page


def patient_refs(patient: Patient) -> list[str]:
    """The patient's UUID and those of every record merged into them, however deep (a record
    merged into one that was later merged itself), in one query."""
    table = connection.ops.quote_name(Patient._meta.db_table)
    merged_into = connection.ops.quote_name(Patient._meta.get_field("merged_into").column)
    # UNION (not UNION ALL) drops rows already seen, so even a corrupted cycle terminates.
    sql = (
        f"WITH RECURSIVE merged(id) AS ("  # noqa: S608
        f" SELECT id FROM {table} WHERE {merged_into} = %s"
        f" UNION SELECT p.id FROM {table} p JOIN merged m ON p.{merged_into} = m.id"
        f") SELECT p.uuid FROM {table} p JOIN merged m ON p.id = m.id"
    )
    field = Patient._meta.get_field("uuid")
    with connection.cursor() as cursor:
        cursor.execute(sql, [patient.pk])
        aliases = [str(field.to_python(row[0])) for row in cursor.fetchall()]
    return [str(patient.uuid), *sorted(aliases)]


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=REPORT_TIME_ZONE)


def access_events(refs: Iterable[str], period: Period) -> QuerySet[AuditEvent]:
    """Every event about these patient references within the period, newest first."""
    events = AuditEvent.objects.filter(patient_ref__in=list(refs))
    if period.start:
        events = events.filter(occurred_at__gte=_day_start(period.start))
    if period.end:
        events = events.filter(occurred_at__lt=_day_start(period.end + dt.timedelta(days=1)))
    return events.order_by("-occurred_at", "-id")


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Names:
    users: dict[uuid.UUID, tuple[str, str]]  # full name, RPPS
    structures: dict[uuid.UUID, str]


def _names(user_ids: Iterable[str], structure_ids: Iterable[str]) -> _Names:
    """Current names of these users and structures: one query each."""
    users = {key for key in map(_uuid, user_ids) if key is not None}
    structures = {key for key in map(_uuid, structure_ids) if key is not None}
    return _Names(
        users={
            key: (f"{first} {last.upper()}".strip(), rpps or "")
            for key, first, last, rpps in User.objects.filter(uuid__in=users).values_list(
                "uuid", "first_name", "last_name", "rpps"
            )
        }
        if users
        else {},
        structures=dict(Structure.objects.filter(uuid__in=structures).values_list("uuid", "name"))
        if structures
        else {},
    )


def _label(choices: type[TextChoices], code: str) -> str:
    # A code written by an older or newer release is shown as it was recorded.
    return str(choices(code).label) if code in choices.values else code


def _row(event: AuditEvent, names: _Names) -> AccessRow:
    rpps = event.actor_rpps
    if event.actor_kind == "user":
        user_key = _uuid(event.actor_user_id)
        name, current_rpps = names.users.get(user_key, ("", "")) if user_key else ("", "")
        who = name or event.actor_label or _("Utilisateur inconnu")
        rpps = rpps or current_rpps
    elif event.actor_kind == "system":
        who = (
            _("Système (%(label)s)") % {"label": event.actor_label}
            if event.actor_label
            else _("Système")
        )
    else:
        who = _("Anonyme")
    structure_key = _uuid(event.actor_structure_id) if event.actor_structure_id else None
    return AccessRow(
        event_uuid=event.uuid,
        occurred_at=event.occurred_at.astimezone(REPORT_TIME_ZONE),
        who=who,
        rpps=rpps,
        role=_label(Role, event.actor_role) if event.actor_role else "",
        structure=names.structures.get(structure_key, "") if structure_key else "",
        what=_label(Action, event.action),
        purpose=_label(Purpose, event.purpose),
        emergency=event.purpose == Purpose.EMERGENCY,
        outcome=_label(Outcome, event.outcome),
        succeeded=event.outcome == Outcome.SUCCESS,
    )


def _cursor(events: QuerySet[AuditEvent], value: str) -> tuple[dt.datetime, int] | None:
    key = _uuid(value) if value else None
    if key is None:
        return None
    found = events.filter(uuid=key).values_list("occurred_at", "id").first()
    return (found[0], found[1]) if found else None


def report_page(
    patient: Patient, period: Period, *, before: str = "", size: int = PAGE_SIZE
) -> ReportPage:
    """One page of the report, newest first: the accesses older than the event ``before``
    (a UUID from the previous page), or the newest ones. At most five queries."""
    events = access_events(patient_refs(patient), period)
    cursor = _cursor(events, before)
    window = events
    if cursor is not None:
        at, pk = cursor
        window = events.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=pk))
    found = list(window[: size + 1])
    shown = found[:size]
    names = _names(
        (e.actor_user_id for e in shown if e.actor_kind == "user"),
        (e.actor_structure_id for e in shown if e.actor_structure_id),
    )
    return ReportPage(
        rows=[_row(e, names) for e in shown],
        older_cursor=str(shown[-1].uuid) if len(found) > size else "",
        first=cursor is None,
    )


def report_rows(patient: Patient, period: Period) -> Iterator[AccessRow]:
    """Every access of the period, newest first, for the exports: streamed from the database
    (names looked up once beforehand), so a long history never sits in memory."""
    events = access_events(patient_refs(patient), period)
    actors = set(events.order_by().values_list("actor_user_id", "actor_structure_id").distinct())
    names = _names((u for u, _s in actors if u), (s for _u, s in actors if s))
    for event in events.iterator(chunk_size=EXPORT_CHUNK):
        yield _row(event, names)
