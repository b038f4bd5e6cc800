"""Recording and sealing audit events: content, actor, no trace no action, the chain."""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from dcc.accounts import services as accounts
from dcc.accounts.choices import Role, StructureIdType, StructureKind
from dcc.accounts.models import Membership, Structure
from dcc.audit import chain
from dcc.audit import services as audit
from dcc.audit.models import AuditEvent
from dcc.audit.services import record_event
from dcc.audit.tests.conftest import Record, Seal
from dcc.audit.tests.tampering import WRONG_KEY, forge, guard_off
from dcc.audit.verify import verify_chain
from dcc.core.context import Actor, acting_as

pytestmark = pytest.mark.django_db

CONSULTANT = Actor(
    kind="user",
    user_id="6f1c3c2e-0b7a-4d55-9d0e-5a2b9c1f0a11",
    rpps="10000100007",
    structure_id="0a7e5f0e-3c1d-4b8e-9f2a-1d4c6b8e2f33",
    role="physician",
    label="oncologue@chu.test",
    source_ip="10.1.2.3",
    request_id="3f9a1c5e",
    purpose="emergency",
)


def stored(event: AuditEvent | None) -> AuditEvent:
    assert event is not None
    return AuditEvent.objects.get(pk=event.pk)


def test_an_event_records_who_did_what_to_which_patient_and_why() -> None:
    with acting_as(CONSULTANT), transaction.atomic():
        event = stored(
            record_event(
                action="document.read",
                outcome="denied",
                patient_ref="patient-42",
                resource_type="DocumentReference",
                resource_id="doc-7",
                resource_version="3",
                details={"motif": "urgence"},
            )
        )
    assert (event.actor_kind, event.actor_user_id, event.actor_rpps) == (
        "user",
        CONSULTANT.user_id,
        "10000100007",
    )
    assert (event.actor_structure_id, event.actor_role, event.actor_label) == (
        CONSULTANT.structure_id,
        "physician",
        "oncologue@chu.test",
    )
    assert (event.source_ip, event.request_id, event.purpose) == (
        "10.1.2.3",
        "3f9a1c5e",
        "emergency",
    )
    assert (event.action, event.outcome, event.patient_ref) == (
        "document.read",
        "denied",
        "patient-42",
    )
    assert (event.resource_type, event.resource_id, event.resource_version) == (
        "DocumentReference",
        "doc-7",
        "3",
    )
    assert event.key_id == "k1"
    assert event.occurred_at.tzinfo is not None
    assert event.chain_seq is None and event.chain_mac == ""


def test_an_explicit_actor_wins_over_the_acting_context() -> None:
    worker = Actor(kind="system", label="dcc import_hl7", request_id="abc123")
    with acting_as(CONSULTANT):
        event = stored(record_event(action="patient.read", actor=worker))
    assert (event.actor_kind, event.actor_label, event.actor_user_id) == (
        "system",
        "dcc import_hl7",
        "",
    )


def test_without_any_context_the_actor_is_anonymous() -> None:
    event = stored(record_event(action="auth.login_failed", outcome="denied"))
    assert (event.actor_kind, event.actor_user_id, event.actor_label) == ("anonymous", "", "")


def test_an_event_carries_a_mac_of_its_exact_content_made_with_the_audit_key(
    settings: Any,
) -> None:
    event = stored(record_event(action="patient.read", details={"b": 1, "a": "x"}))
    content = [getattr(event, name) for name in chain.CONTENT_FIELDS]
    assert event.row_mac == chain.row_mac(settings.AUDIT_KEY, content)
    assert event.row_mac != chain.row_mac(WRONG_KEY, content)
    content[chain.CONTENT_FIELDS.index("patient_ref")] = "patient-43"
    assert event.row_mac != chain.row_mac(settings.AUDIT_KEY, content)


def test_details_are_kept_as_canonical_json_with_sorted_keys() -> None:
    event = stored(record_event(action="role.granted", details={"zeta": [1, 2], "alpha": "é"}))
    assert event.details == '{"alpha":"é","zeta":[1,2]}'
    assert orjson.loads(event.details) == {"zeta": [1, 2], "alpha": "é"}


def test_control_characters_cannot_split_an_audit_line_or_a_mac_field() -> None:
    separator = chain.SEPARATOR
    event = stored(
        record_event(
            action=f"page.viewed\nFORGED{separator}x",
            resource_id="a\r\nb",
            details={"note": f"line1\nline2{separator}"},
        )
    )
    assert event.action == "page.viewed FORGED x"
    assert event.resource_id == "a  b"
    assert "\n" not in event.details and separator not in event.details
    assert orjson.loads(event.details) == {"note": f"line1\nline2{separator}"}


def test_with_auditing_switched_off_nothing_is_recorded(settings: Any) -> None:
    settings.AUDIT_ENABLED = False
    assert record_event(action="page.viewed") is None
    assert not AuditEvent.objects.exists()


# No trace, no action -------------------------------------------------------------------------


@pytest.fixture
def audit_storage_fails() -> Iterator[None]:
    """Make the database refuse every audit INSERT, whoever issues it and however."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION audit_storage_fails() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit storage unavailable'; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER audit_storage_fails BEFORE INSERT ON audit_auditevent "
                "FOR EACH ROW EXECUTE FUNCTION audit_storage_fails()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER audit_storage_fails BEFORE INSERT ON audit_auditevent "
                "BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END"
            )
    yield  # the test's transaction rolls the trigger back with everything else


def test_a_structure_is_not_created_when_its_audit_event_cannot_be_written(
    platform_admin: Any, audit_storage_fails: None
) -> None:
    # The audit failure surfaces as a database error, never as a "duplicate" form message.
    with pytest.raises(DatabaseError):
        accounts.create_structure(
            actor=platform_admin,
            name="Centre Sans Trace",
            kind=StructureKind.CANCER_CENTRE,
            national_id_type=StructureIdType.FINESS,
            national_id="330000100",
        )
    assert not Structure.objects.filter(name="Centre Sans Trace").exists()


def test_the_same_structure_is_created_when_the_audit_event_can_be_written(
    platform_admin: Any,
) -> None:
    structure = accounts.create_structure(
        actor=platform_admin,
        name="Centre Tracé",
        kind=StructureKind.CANCER_CENTRE,
        national_id_type=StructureIdType.FINESS,
        national_id="330000100",
    )
    assert AuditEvent.objects.filter(
        action="structure.created", resource_id=str(structure.uuid)
    ).exists()


def test_a_role_is_not_granted_when_its_audit_event_cannot_be_written(
    platform_admin: Any,
    oncologist: Any,
    structures: dict[str, Any],
    audit_storage_fails: None,
) -> None:
    with pytest.raises(DatabaseError, match="audit storage unavailable"):
        accounts.grant_role(
            actor=platform_admin,
            user=oncologist,
            structure=structures["other"],
            role=Role.PHYSICIAN,
        )
    assert not Membership.objects.filter(user=oncologist, structure=structures["other"]).exists()


def test_a_role_is_not_granted_when_the_database_rejects_its_audit_row(
    platform_admin: Any,
    oncologist: Any,
    structures: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    existing = stored(record_event(action="page.viewed"))
    # A clash on the event's unique identifier: the database itself refuses the audit INSERT.
    monkeypatch.setattr(audit, "uuid", types.SimpleNamespace(uuid4=lambda: existing.uuid))
    with pytest.raises(IntegrityError):
        accounts.grant_role(
            actor=platform_admin,
            user=oncologist,
            structure=structures["other"],
            role=Role.PHYSICIAN,
        )
    assert not Membership.objects.filter(user=oncologist, structure=structures["other"]).exists()
    assert AuditEvent.objects.count() == 1


# Sealing ---------------------------------------------------------------------------------------


def chained() -> list[tuple[int, int | None, str]]:
    return list(
        AuditEvent.objects.filter(chain_seq__isnull=False)
        .order_by("chain_seq")
        .values_list("id", "chain_seq", "chain_mac")
    )


def expected_links(key: bytes, ids: list[int]) -> list[tuple[int, int, str]]:
    macs = dict(AuditEvent.objects.filter(pk__in=ids).values_list("id", "row_mac"))
    links, previous = [], chain.GENESIS
    for seq, event_id in enumerate(ids, start=1):
        previous = chain.chain_mac(key, previous, seq, macs[event_id])
        links.append((event_id, seq, previous))
    return links


def test_sealing_links_every_pending_event_in_the_order_recorded(
    record: Record, seal: Seal, settings: Any
) -> None:
    events = record(12)
    assert seal() == 12
    assert chained() == expected_links(settings.AUDIT_KEY, [e.pk for e in events])
    assert not AuditEvent.objects.filter(chain_seq__isnull=True).exists()


def test_sealing_again_changes_nothing(record: Record, seal: Seal) -> None:
    record(5)
    seal()
    before = chained()
    assert seal() == 0
    assert chained() == before


def test_later_events_continue_the_same_chain(record: Record, seal: Seal, settings: Any) -> None:
    first = record(3)
    seal()
    second = record(4, start=3)
    assert seal() == 4
    ids = [e.pk for e in first + second]
    assert chained() == expected_links(settings.AUDIT_KEY, ids)


def test_sealing_in_small_batches_links_them_all_in_order(
    record: Record, seal: Seal, settings: Any
) -> None:
    events = record(11)
    assert seal(batch=3) == 11
    assert chained() == expected_links(settings.AUDIT_KEY, [e.pk for e in events])


def test_sealing_never_chains_an_event_with_an_invalid_mac(
    record: Record, seal: Seal, settings: Any
) -> None:
    before = record(2)
    forged = [forge(), forge(), forge()]  # more than a batch, so the batches must move past them
    after = record(3, start=2)
    assert seal(batch=2) == 5
    legit = [e.pk for e in before + after]
    assert chained() == expected_links(settings.AUDIT_KEY, legit)
    assert set(AuditEvent.objects.filter(chain_seq__isnull=True).values_list("id", flat=True)) == {
        f.pk for f in forged
    }
    report = verify_chain()
    assert report.broken is not None
    assert report.broken.event_id == forged[0].pk
    assert "forged" in report.broken.reason


def test_events_are_sealed_as_soon_as_their_transaction_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        record_event(action="patient.read")
        record_event(action="document.read")
        assert not AuditEvent.objects.filter(chain_seq__isnull=False).exists()
    assert len(callbacks) == 2  # one seal for the transaction, then its anchor update
    assert list(AuditEvent.objects.order_by("id").values_list("chain_seq", flat=True)) == [1, 2]


def test_a_rolled_back_transaction_does_not_stop_later_ones_from_being_sealed(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(action="patient.read")
        raise RuntimeError("the service failed after recording its event")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        kept = stored(record_event(action="document.read"))
    assert AuditEvent.objects.get(pk=kept.pk).chain_seq == 1
    assert AuditEvent.objects.count() == 1


def test_in_worker_mode_commits_leave_sealing_to_the_worker(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AUDIT_SEAL_MODE = "worker"
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        record_event(action="patient.read")
    assert callbacks == []
    assert AuditEvent.objects.get().chain_seq is None
    assert audit.seal_pending_events() == 1


def test_a_sealed_trail_verifies(record: Record, seal: Seal) -> None:
    record(30)
    seal()
    record(4, start=30)  # committed but not yet sealed: checked on their own MAC
    report = verify_chain()
    assert report.ok, report.broken
    assert (report.checked, report.pending) == (30, 4)


def test_a_pending_event_the_application_could_not_load_is_skipped_not_fatal(
    record: Record, seal: Seal
) -> None:
    events = record(3)
    with guard_off(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE audit_auditevent SET occurred_at = '-infinity' WHERE id = %s",
                [events[1].pk],
            )
        else:
            cursor.execute(
                "UPDATE audit_auditevent SET occurred_at = 'hier', uuid = 'zz' WHERE id = %s",
                [events[1].pk],
            )
    assert seal() == 2
    linked = AuditEvent.objects.filter(pk=events[1].pk).values_list("chain_seq", flat=True)
    assert linked.get() is None
    report = verify_chain()
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (events[1].pk, None)
