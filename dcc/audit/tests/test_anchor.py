"""The anchor: the signed chain head kept outside the database, so a cut tail is detected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dcc.audit import anchor
from dcc.audit.models import AuditEvent
from dcc.audit.services import seal_pending_events
from dcc.audit.tests.conftest import Record, Seal
from dcc.audit.tests.tampering import delete, edit, guard_off
from dcc.audit.verify import verify_chain

pytestmark = pytest.mark.django_db


def head() -> tuple[int, str]:
    seq, mac = AuditEvent.objects.order_by("-chain_seq").values_list("chain_seq", "chain_mac")[0]
    assert seq is not None
    return seq, mac


def anchor_seq() -> int | None:
    current = anchor.read()
    return current.seq if current else None


def test_sealing_moves_the_anchor_to_the_chain_head(
    record: Record, seal: Seal, anchor_path: Path
) -> None:
    record(5)
    seal()
    assert anchor.read() == anchor.Anchor(*head())
    record(2, start=5)
    seal()
    assert anchor.read() == anchor.Anchor(7, head()[1])


def test_the_anchor_never_moves_backwards(record: Record, seal: Seal, anchor_path: Path) -> None:
    record(5)
    seal()
    anchor.advance(2, "0" * 64)
    assert anchor.read() == anchor.Anchor(*head())


def test_with_the_anchor_off_nothing_is_written(record: Record, seal: Seal, tmp_path: Path) -> None:
    record(2)
    seal()
    assert anchor.read() is None
    assert list(tmp_path.iterdir()) == []


def test_deleting_the_newest_events_is_detected_through_the_anchor(
    record: Record, seal: Seal, anchor_path: Path
) -> None:
    events = record(10)
    seal()
    assert verify_chain().ok
    with guard_off():
        delete(*(e.pk for e in events[7:]))
    report = verify_chain()
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (None, 8)
    assert "8..10 deleted" in report.broken.reason


def test_a_cut_tail_stays_detected_while_new_events_keep_arriving(
    record: Record, seal: Seal, anchor_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = record(10)
    seal()
    with guard_off():
        delete(*(e.pk for e in events[6:]))
    newcomers = record(6, start=10)
    # Chaining the newcomers on position 6 would push the chain past the anchor and erase the
    # evidence: the sealer refuses and leaves them pending, each still protected by its MAC.
    assert seal() == 0
    assert "audit sealing refused" in caplog.text
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in newcomers], chain_seq__isnull=False)
    assert anchor_seq() == 10
    report = verify_chain()
    assert report.broken is not None
    assert report.broken.chain_seq == 7
    assert "7..10 deleted" in report.broken.reason


def test_a_rewritten_head_stops_sealing_and_is_reported(
    record: Record, seal: Seal, anchor_path: Path
) -> None:
    events = record(4)
    seal()
    with guard_off():
        edit(events[-1].pk, chain_mac="0" * 64)
    record(1, start=4)
    assert seal() == 0
    report = verify_chain()
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (events[-1].pk, 4)


def test_a_lagging_anchor_is_caught_up_by_the_next_seal(
    record: Record, seal: Seal, anchor_path: Path
) -> None:
    record(3)
    seal()
    record(2, start=3)
    seal_pending_events()  # its after-commit anchor update never runs (a crash, say)
    assert anchor_seq() == 3
    record(1, start=5)
    assert seal() == 1
    assert anchor.read() == anchor.Anchor(*head())
    assert head()[0] == 6
    assert verify_chain().ok


def test_a_chain_rewritten_below_a_lagging_anchor_stops_sealing(
    record: Record, seal: Seal, anchor_path: Path
) -> None:
    events = record(3)
    seal()
    record(2, start=3)
    seal_pending_events()
    with guard_off():
        edit(events[2].pk, chain_mac="0" * 64)
    record(1, start=5)
    assert seal() == 0
    assert anchor_seq() == 3


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda data: data | {"seq": data["seq"] - 1}, id="position changed"),
        pytest.param(lambda data: data | {"mac": "0" * 64}, id="head changed"),
        pytest.param(lambda data: {"seq": data["seq"], "mac": data["mac"]}, id="signature removed"),
        pytest.param(lambda data: data | {"signature": "0" * 64}, id="signature replaced"),
        pytest.param(lambda data: [data], id="not an object"),
    ],
)
def test_a_forged_anchor_file_is_detected_and_left_as_evidence(
    record: Record, seal: Seal, anchor_path: Path, forge: Any
) -> None:
    record(4)
    seal()
    forged = json.dumps(forge(json.loads(anchor_path.read_text())))
    anchor_path.write_text(forged)
    report = verify_chain()
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (None, None)
    assert "anchor unreadable" in report.broken.reason
    record(1, start=4)
    assert seal() == 0
    assert anchor_path.read_text() == forged
