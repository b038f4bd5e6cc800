"""What an insider with write access to the database can do to the audit table.

On PostgreSQL the append-only trigger is switched off first, as the table owner or a superuser
could; SQLite has no such guard. Every helper writes through plain UPDATE/INSERT/DELETE."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.models import F

from dcc.audit import chain
from dcc.audit.models import AuditEvent

WRONG_KEY = b"an-insider-guess-" + b"w" * 32


@contextlib.contextmanager
def guard_off() -> Iterator[None]:
    """Disable the append-only trigger for the block (PostgreSQL); nothing to do on SQLite."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def chain_ids() -> list[int]:
    """Event ids in chain order (index 0 is position 1)."""
    return list(
        AuditEvent.objects.filter(chain_seq__isnull=False)
        .order_by("chain_seq")
        .values_list("id", flat=True)
    )


def edit(event_id: int, **values: Any) -> None:
    assert AuditEvent.objects.filter(pk=event_id).update(**values) == 1


def delete(*event_ids: int) -> None:
    AuditEvent.objects.filter(pk__in=event_ids).delete()


def shift_positions(start: int, by: int) -> None:
    """Move every link at or after ``start`` by ``by`` positions (unique index permitting)."""
    rows = AuditEvent.objects.filter(chain_seq__gte=start)
    rows.update(chain_seq=-(F("chain_seq") + by))
    AuditEvent.objects.filter(chain_seq__lt=0).update(chain_seq=-F("chain_seq"))


def swap_positions(first: int, second: int) -> None:
    a = AuditEvent.objects.get(pk=first)
    b = AuditEvent.objects.get(pk=second)
    edit(a.pk, chain_seq=-1)
    edit(b.pk, chain_seq=a.chain_seq)
    edit(a.pk, chain_seq=b.chain_seq)


def swap_content(first: int, second: int, *, with_row_mac: bool) -> None:
    """Exchange what two rows say, leaving their chain fields in place."""
    names = [*chain.CONTENT_FIELDS, *(["row_mac"] if with_row_mac else [])]
    a = AuditEvent.objects.values(*names).get(pk=first)
    b = AuditEvent.objects.values(*names).get(pk=second)
    edit(first, uuid=uuid.uuid4())  # frees a's uuid for the unique index
    edit(second, **a)
    edit(first, **b)


def content_of(event_id: int) -> list[object]:
    values = AuditEvent.objects.values_list(*chain.CONTENT_FIELDS).get(pk=event_id)
    return list(values)


def forge(
    *,
    key: bytes = WRONG_KEY,
    chain_seq: int | None = None,
    previous: str = chain.GENESIS,
    copy_row_mac_of: int | None = None,
    **overrides: Any,
) -> AuditEvent:
    """Insert a made-up event with MACs computed with ``key`` (not the application's)."""
    event = AuditEvent(
        uuid=uuid.uuid4(),
        occurred_at=dt.datetime(2025, 3, 4, 5, 6, 7, 89, tzinfo=dt.UTC),
        actor_kind="user",
        actor_user_id="6f1c3c2e-0b7a-4d55-9d0e-5a2b9c1f0a11",
        actor_label="oncologue@chu.test",
        action="patient.read",
        outcome="success",
        patient_ref="patient-1",
        key_id="k1",
    )
    for name, value in overrides.items():
        setattr(event, name, value)
    if copy_row_mac_of is not None:
        event.row_mac = AuditEvent.objects.values_list("row_mac", flat=True).get(pk=copy_row_mac_of)
    else:
        event.row_mac = chain.row_mac(key, [getattr(event, n) for n in chain.CONTENT_FIELDS])
    if chain_seq is not None:
        event.chain_seq = chain_seq
        event.chain_mac = chain.chain_mac(key, previous, chain_seq, event.row_mac)
    event.save(force_insert=True)
    return event


def rechain(start: int, *, key: bytes, rows_too: bool) -> None:
    """Recompute the links from position ``start`` on (and the row MACs if ``rows_too``)."""
    previous = (
        AuditEvent.objects.filter(chain_seq=start - 1).values_list("chain_mac", flat=True).first()
        or chain.GENESIS
    )
    for event in AuditEvent.objects.filter(chain_seq__gte=start).order_by("chain_seq"):
        if rows_too:
            event.row_mac = chain.row_mac(key, [getattr(event, n) for n in chain.CONTENT_FIELDS])
        assert event.chain_seq is not None
        previous = chain.chain_mac(key, previous, event.chain_seq, event.row_mac)
        edit(event.pk, row_mac=event.row_mac, chain_mac=previous)
