"""The inspection of a large upload on a thread of its own (``inspection.beside``): the same
verdicts and rejections as inline, the size limit at the same ``feed``, bounded memory, no
thread left behind, the caller's language."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcc.documents import content
from dcc.documents.inspection import Inspector, Kind, RejectedContent, beside
from dcc.documents.inspection.beside import QUEUED_CHUNKS, StreamingInspection
from dcc.documents.tests.test_inspection import (
    ACCEPTED,
    MIXINS,
    PREFIXES,
    REFUSED,
    image_stream,
    outcome,
    pieces,
    report,
)


def threaded_outcome(
    data: bytes,
    sizes: list[int],
    *,
    inline_bytes: int = 0,
    declared: Kind | None = None,
    max_size: int | None = None,
) -> str:
    inspection = StreamingInspection(
        declared=declared, max_size=max_size, inline_bytes=inline_bytes
    )
    try:
        for chunk in pieces(data, sizes):
            inspection.feed(chunk)
        verdict = inspection.finish()
    except RejectedContent as rejection:
        return rejection.code
    finally:
        inspection.close()
    return str(verdict.kind)


def inspection_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "dcc-inspection"]


def wait_for_no_inspection_thread() -> None:
    deadline = time.monotonic() + 10
    while inspection_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not inspection_threads()


SAMPLES = {**{k: v[0] for k, v in ACCEPTED.items()}, **{k: v[0] for k, v in REFUSED.items()}}


@pytest.mark.parametrize("data", SAMPLES.values(), ids=SAMPLES.keys())
@pytest.mark.parametrize("inline_bytes", [0, 1, 100])
def test_every_sample_gets_the_inline_outcome(data: bytes, inline_bytes: int) -> None:
    expected = outcome(data)
    for sizes in ([1], [7], [64, 3], [4096]):
        assert threaded_outcome(data, sizes, inline_bytes=inline_bytes) == expected, sizes
    wait_for_no_inspection_thread()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(PREFIXES),
    parts=st.lists(st.one_of(st.sampled_from(MIXINS), st.binary(max_size=40)), max_size=12),
    sizes=st.lists(st.integers(1, 200), min_size=1, max_size=6),
    inline_bytes=st.integers(0, 300),
    max_size=st.none() | st.integers(1, 600),
)
def test_arbitrary_mixtures_get_the_inline_outcome(
    prefix: bytes, parts: list[bytes], sizes: list[int], inline_bytes: int, max_size: int | None
) -> None:
    data = prefix + b"".join(parts)
    assert threaded_outcome(data, sizes, inline_bytes=inline_bytes, max_size=max_size) == outcome(
        data, max_size=max_size
    )


def test_a_declared_type_is_checked_on_the_first_bytes_inline() -> None:
    inspection = StreamingInspection(declared=Kind.PNG)
    with pytest.raises(RejectedContent) as raised:
        inspection.feed(report())
    assert raised.value.code == "type_mismatch"
    assert not inspection.threaded


def test_one_byte_over_the_limit_is_refused_by_the_feed_that_brings_it() -> None:
    data = report(image_stream(b"\x00" * 5000))
    inspection = StreamingInspection(max_size=len(data) - 1, inline_bytes=0)
    chunks = list(pieces(data, [1000]))
    for chunk in chunks[:-1]:
        inspection.feed(chunk)
    assert inspection.threaded
    with pytest.raises(RejectedContent) as raised:
        inspection.feed(chunks[-1])
    assert raised.value.code == "too_large"
    inspection.close()
    wait_for_no_inspection_thread()


def test_a_finding_before_the_limit_comes_before_the_limit() -> None:
    data = report(b"<< /S /JavaScript /JS (app.alert(1)) >>", image_stream(b"\x00" * 5000))
    inspection = StreamingInspection(max_size=len(data) - 1, inline_bytes=0)
    with pytest.raises(RejectedContent) as raised:
        for chunk in pieces(data, [700]):
            inspection.feed(chunk)
    assert raised.value.code == "pdf_javascript"
    inspection.close()


def test_a_finding_in_the_body_is_raised_later_and_stays_raised() -> None:
    data = report(image_stream(b"\x00" * 4000), b"<< /S /JavaScript /JS (app.alert(1)) >>")
    inspection = StreamingInspection(inline_bytes=0)
    raised: list[RejectedContent] = []
    for chunk in pieces(data, [500]):
        try:
            inspection.feed(chunk)
        except RejectedContent as rejection:
            raised.append(rejection)
            break
    if not raised:  # not yet seen by a feed: then by finish
        with pytest.raises(RejectedContent) as at_finish:
            inspection.finish()
        raised.append(at_finish.value)
    assert raised[0].code == "pdf_javascript"
    with pytest.raises(RejectedContent):
        inspection.feed(b"more")
    with pytest.raises(RejectedContent):
        inspection.finish()
    inspection.close()
    wait_for_no_inspection_thread()


def test_the_verdict_and_the_size_are_those_of_the_inspector() -> None:
    data = report(image_stream(b"\x01" * 10_000))
    inspection = StreamingInspection(inline_bytes=0)
    for chunk in pieces(data, [333]):
        inspection.feed(chunk)
    assert inspection.threaded
    inline = Inspector()
    inline.feed(data)
    assert inspection.finish() == inline.finish()
    assert inspection.size == len(data)
    wait_for_no_inspection_thread()  # finish ends the thread


def test_small_contents_are_inspected_without_a_thread() -> None:
    inspection = StreamingInspection(inline_bytes=1 << 20)
    for chunk in pieces(report(), [100]):
        inspection.feed(chunk)
    inspection.finish()
    assert not inspection.threaded


def test_close_ends_the_thread_and_later_feeds_are_refused() -> None:
    inspection = StreamingInspection(inline_bytes=0)
    inspection.feed(b"%PDF-1.7\n")
    assert inspection_threads()
    inspection.close()
    wait_for_no_inspection_thread()
    with pytest.raises(ValueError, match="closed"):
        inspection.feed(b"1 0 obj")


def test_an_inspection_dropped_without_close_ends_its_thread() -> None:
    inspection = StreamingInspection(inline_bytes=0)
    inspection.feed(b"%PDF-1.7\n")
    assert inspection_threads()
    del inspection
    gc.collect()
    wait_for_no_inspection_thread()


def test_memory_is_bounded_the_feeding_waits_for_the_inspection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At most ``QUEUED_CHUNKS`` chunks wait, plus the one being inspected."""
    gate = threading.Event()
    inspected: list[int] = []
    feed = Inspector.feed

    def slow_feed(self: Inspector, chunk: bytes) -> None:
        gate.wait(10)
        inspected.append(len(chunk))
        feed(self, chunk)

    monkeypatch.setattr(Inspector, "feed", slow_feed)
    inspection = StreamingInspection(inline_bytes=0)
    fed: list[int] = []

    def producer() -> None:
        for chunk in [b"%PDF-1.7\n"] + [b"\x00" * 100] * (QUEUED_CHUNKS + 10):
            inspection.feed(chunk)
            fed.append(len(chunk))

    thread = threading.Thread(target=producer)
    thread.start()
    time.sleep(0.3)
    assert len(fed) == QUEUED_CHUNKS + 1  # one being inspected, the rest queued, one waiting
    assert thread.is_alive()
    gate.set()
    thread.join(10)
    assert len(fed) == QUEUED_CHUNKS + 11
    inspection.close()


def test_the_rejection_speaks_the_callers_language() -> None:
    data = report(image_stream(b"\x00" * 4000), b"<< /S /JavaScript /JS (app.alert(1)) >>")
    with translation.override("en"):
        expected = outcome_message(data, threaded=False)
        found = outcome_message(data, threaded=True)
    french = outcome_message(data, threaded=True)
    assert found == expected
    assert found != french


def outcome_message(data: bytes, *, threaded: bool) -> str:
    inspection = StreamingInspection(inline_bytes=0 if threaded else len(data))
    try:
        for chunk in pieces(data, [256]):
            inspection.feed(chunk)
        inspection.finish()
    except RejectedContent as rejection:
        return rejection.message
    finally:
        inspection.close()
    raise AssertionError("not refused")


# --- Through PendingContent ------------------------------------------------------------------


def stored_files(root: Path) -> Iterator[Path]:
    return (path for path in root.rglob("*") if path.is_file())


@pytest.mark.django_db
def test_a_large_upload_refused_in_its_body_leaves_nothing(
    document_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beside, "INLINE_BYTES", 64 * 1024)
    data = report(image_stream(b"\x02" * (1 << 20)), b"<< /S /JavaScript /JS (x) >>")
    pending = content.PendingContent(file_name="cr.pdf")
    with pytest.raises(RejectedContent) as raised:
        for chunk in pieces(data, [64 * 1024]):
            pending.feed(chunk)
        pending.finish()
    assert raised.value.code == "pdf_javascript"
    assert pending.inspector.threaded
    assert not list(stored_files(document_dir))
    wait_for_no_inspection_thread()


@pytest.mark.django_db
def test_a_large_upload_inspected_beside_is_stored_whole(
    document_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beside, "INLINE_BYTES", 64 * 1024)
    data = report(image_stream(bytes(range(256)) * 8192))
    pending = content.PendingContent(file_name="cr.pdf")
    for chunk in pieces(data, [64 * 1024]):
        pending.feed(chunk)
    blob = pending.commit()
    assert pending.inspector.threaded
    assert blob.kind == Kind.PDF and blob.size == len(data)
    blob.save()
    pending.settle(recorded=True)
    assert b"".join(content.open_verified(blob)) == data
    wait_for_no_inspection_thread()


def test_the_queue_is_bounded() -> None:
    assert 1 <= QUEUED_CHUNKS <= 16
