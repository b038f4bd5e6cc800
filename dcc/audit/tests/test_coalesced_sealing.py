"""Coalesced sealing: one timer-driven seal per window links every event committed before it."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction
from django.test import override_settings

from dcc.audit.models import AuditEvent
from dcc.audit.services import coalescing_sealer, record_event
from dcc.audit.verify import verify_chain

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_coalesced"),
]


@pytest.fixture
def _coalesced() -> object:
    with override_settings(AUDIT_SEAL_MODE="coalesced", AUDIT_SEAL_WINDOW_MS=50):
        yield
        coalescing_sealer.wait_idle(10)


def test_requests_do_not_seal_and_one_timer_seal_links_the_whole_window() -> None:
    with override_settings(AUDIT_SEAL_WINDOW_MS=60_000):
        for index in range(30):
            with transaction.atomic():
                record_event(action="page.viewed", resource_id=str(index))
        assert not AuditEvent.objects.filter(chain_seq__isnull=False).exists()
    coalescing_sealer.flush()  # the timer's seal, run now instead of in a minute
    assert coalescing_sealer.wait_idle(10)
    assert list(AuditEvent.objects.order_by("chain_seq").values_list("resource_id", flat=True)) == [
        str(i) for i in range(30)
    ]
    assert verify_chain().ok


def test_commits_from_several_threads_all_end_up_in_the_chain() -> None:
    def work(number: int) -> None:
        from django.db import connection

        try:
            for index in range(20):
                record_event(action="page.viewed", resource_id=f"{number}-{index}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert coalescing_sealer.wait_idle(10)
    assert not AuditEvent.objects.filter(chain_seq__isnull=True).exists()
    assert sorted(s or 0 for s in AuditEvent.objects.values_list("chain_seq", flat=True)) == list(
        range(1, 81)
    )
    assert verify_chain().ok


def test_a_process_that_exits_within_the_window_seals_what_it_wrote() -> None:
    with override_settings(AUDIT_SEAL_WINDOW_MS=60_000):
        record_event(action="page.viewed", resource_id="last words")
        assert AuditEvent.objects.get().chain_seq is None
        coalescing_sealer.flush()  # what the atexit hook does
    assert AuditEvent.objects.get().chain_seq == 1
    assert coalescing_sealer.wait_idle(1)
