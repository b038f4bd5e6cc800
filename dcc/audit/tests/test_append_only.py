"""On PostgreSQL the audit table itself refuses every change but the sealer's (security.md D7)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from dcc.audit.models import AuditEvent
from dcc.audit.tests.conftest import Record, Seal

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger"),
]


def refused(sql: str, params: list[int | str] | None = None) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_the_database_refuses_to_change_what_an_event_says(record: Record) -> None:
    event = record(1)[0]
    refused("UPDATE audit_auditevent SET patient_ref = 'autre' WHERE id = %s", [event.pk])
    refused("UPDATE audit_auditevent SET row_mac = %s WHERE id = %s", ["0" * 64, event.pk])
    assert AuditEvent.objects.get(pk=event.pk).patient_ref == event.patient_ref


def test_the_database_refuses_to_change_a_sealed_event(record: Record, seal: Seal) -> None:
    event = record(1)[0]
    seal()
    refused("UPDATE audit_auditevent SET chain_seq = 7 WHERE id = %s", [event.pk])
    refused("UPDATE audit_auditevent SET chain_mac = %s WHERE id = %s", ["0" * 64, event.pk])
    refused(
        "UPDATE audit_auditevent SET chain_seq = NULL, chain_mac = '' WHERE id = %s", [event.pk]
    )
    assert AuditEvent.objects.get(pk=event.pk).chain_seq == 1


def test_the_database_refuses_a_seal_that_also_changes_the_event(record: Record) -> None:
    event = record(1)[0]
    refused(
        "UPDATE audit_auditevent SET chain_seq = 1, chain_mac = 'x', action = 'autre' "
        "WHERE id = %s",
        [event.pk],
    )


def test_the_database_lets_the_sealer_link_a_pending_event(record: Record, seal: Seal) -> None:
    events = record(3)
    assert seal() == 3
    assert list(AuditEvent.objects.order_by("id").values_list("chain_seq", flat=True)) == [1, 2, 3]
    assert [e.pk for e in events] == list(
        AuditEvent.objects.order_by("id").values_list("id", flat=True)
    )


def test_the_database_refuses_to_delete_an_event(record: Record, seal: Seal) -> None:
    pending, sealed = record(2)
    seal()
    refused("DELETE FROM audit_auditevent WHERE id = %s", [pending.pk])
    refused("DELETE FROM audit_auditevent")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=sealed.pk).delete()
    assert AuditEvent.objects.count() == 2


def test_the_database_refuses_to_empty_the_table_outside_maintenance(record: Record) -> None:
    record(2)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL dcc.audit_maintenance = 'off'")
        refused("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 2


def test_a_superuser_in_maintenance_may_empty_the_table_to_reset_the_test_database(
    record: Record,
) -> None:
    # The counterpart of the refusal above: what the test database's flush relies on.
    record(2)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL dcc.audit_maintenance = 'on'")
            cursor.execute("TRUNCATE audit_auditevent")
        assert AuditEvent.objects.count() == 0
        transaction.set_rollback(True)
    assert AuditEvent.objects.count() == 2
