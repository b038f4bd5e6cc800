"""Tasks run by a real worker keep the actor who enqueued them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from dcc.audit.models import AuditEvent
from dcc.audit.services import record_event
from dcc.audit.tasks import seal_audit_trail
from dcc.core.context import Actor, acting_as
from dcc.core.tasks import actor_from_payload, actor_payload
from dcc.core.tests.sample_tasks import trace_something


def test_an_actor_survives_the_round_trip_through_json() -> None:
    actor = Actor(
        kind="user",
        user_id="u-1",
        rpps="10000100007",
        role="physician",
        source_ip="10.0.0.1",
        request_id="r1",
    )
    back = actor_from_payload(actor_payload(actor))
    assert (back.kind, back.user_id, back.rpps, back.role, back.source_ip, back.request_id) == (
        "user",
        "u-1",
        "10000100007",
        "physician",
        "10.0.0.1",
        "r1",
    )
    assert back.label.endswith("tâche")


def test_a_tampered_payload_cannot_invent_an_actor_kind() -> None:
    assert actor_from_payload({"kind": "root", "purpose": "whatever"}).kind == "system"


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_seal_task_under_the_enqueuing_actor() -> None:
    actor = Actor(kind="user", user_id="u-42", rpps="10000100007", request_id="req-1")
    with acting_as(actor), override_settings(AUDIT_SEAL_MODE="worker"):
        record_event(action="page.viewed")
        result = seal_audit_trail.enqueue(actor_payload())
    assert AuditEvent.objects.filter(chain_seq__isnull=True).count() == 1
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    result.refresh()
    assert result.status.name == "SUCCESSFUL"
    assert result.return_value == 1
    assert not AuditEvent.objects.filter(chain_seq__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_what_a_task_does_is_traced_to_the_professional_who_asked_for_it() -> None:
    actor = Actor(
        kind="user", user_id="u-7", rpps="10000100015", role="physician", request_id="req-7"
    )
    with acting_as(actor):
        result = trace_something.enqueue(actor_payload(), "doc-1")
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    result.refresh()
    assert result.status.name == "SUCCESSFUL"
    event = AuditEvent.objects.get(uuid=str(result.return_value))
    assert (event.actor_user_id, event.actor_rpps, event.actor_role, event.request_id) == (
        "u-7",
        "10000100015",
        "physician",
        "req-7",
    )
    assert event.actor_label == "tâche"
