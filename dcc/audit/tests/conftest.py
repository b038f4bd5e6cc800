"""Fixtures of the audit tests: an anchor file of their own, sealing that runs its after-commit
work, and a trail of events recorded the way services record them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from dcc.audit.models import AuditEvent
from dcc.audit.services import record_event, seal_pending_events
from dcc.core.context import Actor, acting_as

Seal = Callable[..., int]
Record = Callable[..., list[AuditEvent]]

ACTORS = (
    Actor(
        kind="user",
        user_id="6f1c3c2e-0b7a-4d55-9d0e-5a2b9c1f0a11",
        rpps="10000100007",
        structure_id="0a7e5f0e-3c1d-4b8e-9f2a-1d4c6b8e2f33",
        role="physician",
        label="oncologue@chu.test",
        source_ip="10.1.2.3",
        request_id="3f9a1c",
    ),
    Actor(
        kind="user",
        user_id="9b2d4e6f-1a3c-4e5f-8a7b-2c4d6e8f0a22",
        rpps="",
        structure_id="0a7e5f0e-3c1d-4b8e-9f2a-1d4c6b8e2f33",
        role="rcp_secretary",
        label="secrétaire@chu.test",
        source_ip="2001:db8::7",
        request_id="b81e2d",
        purpose="emergency",
    ),
    Actor(kind="system", label="dcc audit_seal", request_id="c0ffee"),
    Actor(kind="anonymous", source_ip="192.0.2.9"),
)
ACTIONS = ("page.viewed", "patient.read", "document.read", "role.granted", "auth.login")


@pytest.fixture
def anchor_path(tmp_path: Path, settings: Any) -> Path:
    """Anchoring on, into a file of this test."""
    path = tmp_path / "anchor" / "anchor.json"
    settings.AUDIT_ANCHOR_FILE = str(path)
    return path


@pytest.fixture
def seal(django_capture_on_commit_callbacks: Any) -> Seal:
    """Seal as after a commit: the test's transaction never commits, so run the anchor update
    the sealer schedules for after its own commit."""

    def run(**options: Any) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return seal_pending_events(**options)

    return run


@pytest.fixture
def record() -> Record:
    """Record ``count`` varied events, each in its own transaction like a service would."""

    def run(count: int, *, start: int = 0) -> list[AuditEvent]:
        events: list[AuditEvent] = []
        for number in range(start, start + count):
            with acting_as(ACTORS[number % len(ACTORS)]), transaction.atomic():
                event = record_event(
                    action=ACTIONS[number % len(ACTIONS)],
                    outcome="denied" if number % 7 == 3 else "success",
                    patient_ref=f"patient-{number % 13}" if number % 3 else "",
                    resource_type="DocumentReference" if number % 2 else "Patient",
                    resource_id=str(number),
                    resource_version=str(number % 4),
                    details={"n": number, "motif": "contrôle\tqualité", "liste": [1, "é"]}
                    if number % 5 == 0
                    else None,
                )
            assert event is not None
            events.append(event)
        return events

    return run
