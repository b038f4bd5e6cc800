"""``dcc audit_verify`` and ``dcc audit_seal`` end to end."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dcc.audit.models import AuditEvent
from dcc.audit.tests.conftest import Record, Seal
from dcc.audit.tests.tampering import delete, edit, guard_off

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_audit_verify_exits_0_on_an_intact_trail_and_records_that_it_checked(
    record: Record,
) -> None:
    record(20)
    code, out, err = run()
    assert (code, err) == (0, "")
    assert "OK: 20 événements vérifiés, 0 en attente" in out
    verified = AuditEvent.objects.get(action="audit.verified")
    assert verified.details == '{"checked":20}'
    assert verified.chain_seq == 21


def test_audit_verify_exits_1_naming_the_altered_event(record: Record, seal: Seal) -> None:
    events = record(20)
    seal()
    with guard_off():
        edit(events[12].pk, action="patient.read.masqué")
    code, out, err = run()
    assert code == 1
    assert f"ALTÉRATION: event id={events[12].pk} (chain position 13)" in err
    assert "content altered" in err
    assert not AuditEvent.objects.filter(action="audit.verified").exists()


def test_audit_verify_names_the_position_of_a_deleted_event(record: Record, seal: Seal) -> None:
    events = record(20)
    seal()
    with guard_off():
        delete(events[4].pk)
    code, _, err = run()
    assert code == 1
    assert f"event id={events[5].pk} (chain position 5): event missing" in err


def test_audit_verify_without_sealing_writes_nothing(record: Record) -> None:
    record(3)
    code, out, _ = run("--no-seal")
    assert code == 0
    assert "OK: 0 événements vérifiés, 3 en attente de chaînage" in out
    assert AuditEvent.objects.count() == 3
    assert not AuditEvent.objects.filter(chain_seq__isnull=False).exists()


def test_audit_seal_links_the_pending_events(record: Record) -> None:
    record(4)
    out = StringIO()
    call_command("audit_seal", stdout=out)
    assert out.getvalue().strip() == "4 événement(s) chaîné(s)."
    assert not AuditEvent.objects.filter(chain_seq__isnull=True).exists()
