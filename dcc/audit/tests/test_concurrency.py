"""Many workers auditing at once still produce one gapless chain (PostgreSQL)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from django.db import connections, transaction

from dcc.audit import anchor
from dcc.audit.models import AuditEvent
from dcc.audit.services import record_event, seal_pending_events
from dcc.audit.tests.conftest import ACTORS
from dcc.audit.verify import verify_chain
from dcc.core.context import acting_as

pytestmark = [
    pytest.mark.django_db(transaction=True),
]

WORKERS = 8
EVENTS_EACH = 50


def test_concurrent_workers_end_up_in_one_gapless_chain(
    anchor_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dcc.audit")
    start = threading.Barrier(WORKERS)
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            start.wait()
            for index in range(EVENTS_EACH):
                with acting_as(ACTORS[number % len(ACTORS)]), transaction.atomic():
                    record_event(action="patient.read", resource_id=f"{number}-{index}")
                # Committed: this worker's own after-commit seal has run, racing the others.
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    total = WORKERS * EVENTS_EACH
    assert seal_pending_events() == 0  # every commit sealed its own events or a later one did
    positions = list(AuditEvent.objects.order_by("chain_seq").values_list("chain_seq", flat=True))
    assert positions == list(range(1, total + 1))
    assert AuditEvent.objects.values("resource_id").distinct().count() == total
    report = verify_chain()
    assert report.ok, report.broken
    assert (report.checked, report.pending) == (total, 0)
    assert anchor.read() == anchor.Anchor(total, AuditEvent.objects.get(chain_seq=total).chain_mac)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
