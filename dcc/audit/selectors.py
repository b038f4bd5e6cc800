"""Reads of the audit trail for the security officers' journal.

The journal pages by keyset on the primary key (newest first), with an event's public UUID
as the cursor: no COUNT over a table that only grows, and no integer id in the URL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from dcc.accounts.choices import Role
from dcc.accounts.models import Structure, User
from dcc.audit.choices import Action
from dcc.audit.models import AuditEvent

PAGE_SIZE = 50


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight, local time (the officer reads dates in the platform's time zone)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def search_events(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    action: str = "",
    outcome: str = "",
    actor: str = "",
    patient_ref: str = "",
    request_id: str = "",
) -> QuerySet[AuditEvent]:
    """Events matching every given filter; ``actor`` is an RPPS or a user UUID."""
    events = AuditEvent.objects.all()
    if date_from:
        events = events.filter(occurred_at__gte=_day_start(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    if action:
        events = events.filter(action=action)
    if outcome:
        events = events.filter(outcome=outcome)
    if actor:
        field = "actor_rpps" if actor.isdigit() else "actor_user_id"
        events = events.filter(**{field: actor})
    if patient_ref:
        events = events.filter(patient_ref=patient_ref)
    if request_id:
        events = events.filter(request_id=request_id)
    return events


@dataclass(frozen=True)
class JournalPage:
    events: list[AuditEvent]
    newer_cursor: str  # UUID of the newest event shown, when newer ones exist
    older_cursor: str  # UUID of the oldest event shown, when older ones exist


def _cursor_id(value: str) -> int | None:
    try:
        key = uuid.UUID(value)
    except ValueError:
        return None
    found: int | None = AuditEvent.objects.filter(uuid=key).values_list("id", flat=True).first()
    return found


def journal_page(
    events: QuerySet[AuditEvent], *, before: str = "", after: str = "", size: int = PAGE_SIZE
) -> JournalPage:
    """One page of ``events``, newest first: those older than ``before``, or newer than
    ``after`` (both event UUIDs); the first page when neither is a known event."""
    before_id = _cursor_id(before) if before else None
    after_id = None if before_id else (_cursor_id(after) if after else None)
    if after_id is not None:
        rows = list(events.filter(id__gt=after_id).order_by("id")[: size + 1])
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        has_older = events.filter(id__lte=after_id).exists()
    else:
        window = events.filter(id__lt=before_id) if before_id is not None else events
        rows = list(window.order_by("-id")[: size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = before_id is not None and events.filter(id__gte=before_id).exists()
    return JournalPage(
        events=rows,
        newer_cursor=str(rows[0].uuid) if rows and has_newer else "",
        older_cursor=str(rows[-1].uuid) if rows and has_older else "",
    )


def _uuids(values: Iterable[str]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for value in values:
        try:
            found.add(uuid.UUID(value))
        except ValueError:
            continue
    return found


@dataclass(frozen=True)
class JournalRow:
    """An event with the names an officer needs, looked up once for the whole page."""

    event: AuditEvent
    actor_name: str
    structure_name: str

    @property
    def action_label(self) -> str:
        if self.event.action in Action.values:
            return str(Action(self.event.action).label)
        return self.event.action

    @property
    def role_label(self) -> str:
        if self.event.actor_role in Role.values:
            return str(Role(self.event.actor_role).label)
        return self.event.actor_role


def describe_events(events: Sequence[AuditEvent]) -> list[JournalRow]:
    """Attach each actor's current name and structure, in one query each for the page."""
    users = {
        str(key): f"{first} {last.upper()}".strip()
        for key, first, last in User.objects.filter(
            uuid__in=_uuids(e.actor_user_id for e in events if e.actor_user_id)
        ).values_list("uuid", "first_name", "last_name")
    }
    structures = {
        str(key): name
        for key, name in Structure.objects.filter(
            uuid__in=_uuids(e.actor_structure_id for e in events if e.actor_structure_id)
        ).values_list("uuid", "name")
    }
    return [
        JournalRow(
            event=e,
            actor_name=users.get(e.actor_user_id, ""),
            structure_name=structures.get(e.actor_structure_id, ""),
        )
        for e in events
    ]
