"""Background sealing: events committed by requests are chained by the process's thread."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.test import override_settings

from dcc.audit.models import AuditEvent
from dcc.audit.services import background_sealer, record_event
from dcc.audit.verify import verify_chain


def _wait_sealed(count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        background_sealer.wait_idle(0.5)
        if AuditEvent.objects.filter(chain_seq__isnull=False).count() >= count:
            return
        time.sleep(0.01)
    pytest.fail("the background sealer did not chain the events in time")


@pytest.mark.django_db(transaction=True)
@override_settings(AUDIT_SEAL_MODE="background")
def test_committed_events_are_chained_by_the_background_thread() -> None:
    for index in range(30):
        with transaction.atomic():
            record_event(action="page.viewed", resource_id=str(index))
    _wait_sealed(30)
    assert list(AuditEvent.objects.order_by("chain_seq").values_list("resource_id", flat=True)) == [
        str(i) for i in range(30)
    ]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
@override_settings(AUDIT_SEAL_MODE="background")
def test_a_rolled_back_transaction_wakes_nothing_and_leaves_nothing() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(action="page.viewed")
        raise RuntimeError
    with transaction.atomic():
        record_event(action="page.viewed", resource_id="kept")
    _wait_sealed(1)
    assert list(AuditEvent.objects.values_list("resource_id", "chain_seq")) == [("kept", 1)]
