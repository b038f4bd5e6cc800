"""The verifier detects every tampering and names the first tampered event (security.md D4).

A trail of a few hundred events is built once per test; each case tampers with it inside a
savepoint, as an insider with write access to the database would (trigger switched off on
PostgreSQL), runs the verifier, then rolls the tampering back. The anchor is on throughout:
without it, deleting the newest events is undetectable by construction.

300 cases by default; ``DCC_AUDIT_MUTATIONS=10000`` gives D4's full run (about 70 s on SQLite).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models import Field
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dcc.audit import chain
from dcc.audit.models import AuditEvent
from dcc.audit.services import record_event
from dcc.audit.tests.conftest import Record, Seal
from dcc.audit.tests.tampering import (
    WRONG_KEY,
    chain_ids,
    delete,
    edit,
    forge,
    guard_off,
    rechain,
    shift_positions,
    swap_content,
    swap_positions,
)
from dcc.audit.verify import Report, verify_chain

pytestmark = pytest.mark.django_db

SEALED = 300
PENDING = 8
MUTATIONS = int(os.environ.get("DCC_AUDIT_MUTATIONS", "300"))


@dataclass(frozen=True)
class Trail:
    ids: list[int]  # ids[0] is the event at chain position 1
    pending: list[int]
    anchor: Path

    def at(self, position: int) -> int:
        return self.ids[position - 1]

    @property
    def head(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Expected:
    """Where the verifier must report the first break."""

    event_id: int | None
    chain_seq: int | None


def build_trail(record: Record, seal: Seal, anchor_path: Path, sealed: int, pending: int) -> Trail:
    record(sealed)
    seal()
    unsealed = record(pending, start=sealed)
    ids = chain_ids()
    assert len(ids) == sealed and json.loads(anchor_path.read_text())["seq"] == sealed
    return Trail(ids=ids, pending=[e.pk for e in unsealed], anchor=anchor_path)


@pytest.fixture
def trail(record: Record, seal: Seal, anchor_path: Path) -> Trail:
    return build_trail(record, seal, anchor_path, SEALED, PENDING)


@pytest.fixture
def small_trail(record: Record, seal: Seal, anchor_path: Path) -> Trail:
    return build_trail(record, seal, anchor_path, 12, 2)


def tampered(trail: Trail, tamper: Callable[[], Expected]) -> tuple[Report, Expected]:
    """Tamper, verify, and undo everything (rows and anchor file)."""
    anchor_bytes = trail.anchor.read_bytes()
    try:
        with transaction.atomic():
            with guard_off():
                expected = tamper()
            report = verify_chain()
            transaction.set_rollback(True)
    finally:
        trail.anchor.write_bytes(anchor_bytes)
    return report, expected


def assert_first_break(report: Report, expected: Expected) -> None:
    assert report.broken is not None, "tampering went undetected"
    found = (report.broken.event_id, report.broken.chain_seq)
    assert found == (expected.event_id, expected.chain_seq), report.broken.describe()


# The catalogue of tamperings --------------------------------------------------------------------

TEXT_FIELDS = [n for n in chain.CONTENT_FIELDS if n not in ("uuid", "occurred_at")]
# Any Unicode a column can hold, separators and quotes included (NUL: PostgreSQL refuses it).
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=80)
SEALED_POSITION = st.integers(1, SEALED)
HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)


def _max_length(name: str) -> int:
    field = AuditEvent._meta.get_field(name)
    assert isinstance(field, Field)
    return field.max_length or 200


def _different_text(name: str, current: str, drawn: str) -> str:
    value = drawn[: _max_length(name)]
    if value == current:
        value = "x" if current != "x" else "y"
    return value


def _where(trail: Trail, position: int, pending: int | None) -> tuple[int, int | None]:
    """The event an edit targets and the position the verifier must name for it."""
    if pending is not None:
        return trail.pending[pending], None
    return trail.at(position), position


def edit_text(
    trail: Trail, *, position: int, pending: int | None, field: str, text: str
) -> Expected:
    event_id, seq = _where(trail, position, pending)
    current = AuditEvent.objects.values_list(field, flat=True).get(pk=event_id)
    edit(event_id, **{field: _different_text(field, current, text)})
    return Expected(event_id, seq)


def edit_uuid(trail: Trail, *, position: int, pending: int | None, value: Any) -> Expected:
    event_id, seq = _where(trail, position, pending)
    edit(event_id, uuid=value)
    return Expected(event_id, seq)


def edit_time(trail: Trail, *, position: int, pending: int | None, microseconds: int) -> Expected:
    event_id, seq = _where(trail, position, pending)
    current = AuditEvent.objects.values_list("occurred_at", flat=True).get(pk=event_id)
    edit(event_id, occurred_at=current + dt.timedelta(microseconds=microseconds))
    return Expected(event_id, seq)


def edit_mac(
    trail: Trail, *, position: int, pending: int | None, field: str, value: str, upper: bool
) -> Expected:
    event_id, seq = _where(trail, position, pending)
    current = AuditEvent.objects.values_list(field, flat=True).get(pk=event_id)
    new = current.upper() if upper and current else value
    if new == current:
        new = "f" * 64 if current != "f" * 64 else "e" * 64
    edit(event_id, **{field: new})
    return Expected(event_id, seq)


def move(trail: Trail, *, position: int, to: str, offset: int) -> Expected:
    """Give a sealed event another position: none (unsealed), past the head, or below 1."""
    event_id = trail.at(position)
    if to == "below":
        edit(event_id, chain_seq=-offset)
        return Expected(event_id, -offset)
    edit(event_id, chain_seq=None if to == "unsealed" else trail.head + 1 + offset)
    if position < trail.head:
        return Expected(trail.at(position + 1), position)
    if to == "unsealed":
        return Expected(None, position)  # caught by the anchor
    return Expected(event_id, position)


def seal_pending_by_hand(trail: Trail, *, pending: int, offset: int) -> Expected:
    """Put a pending event in the chain without a valid link."""
    edit(trail.pending[pending], chain_seq=trail.head + offset)
    return Expected(trail.pending[pending], trail.head + 1)


def delete_rows(trail: Trail, *, position: int, count: int) -> Expected:
    last = min(position + count - 1, trail.head)
    delete(*(trail.at(p) for p in range(position, last + 1)))
    if last < trail.head:
        return Expected(trail.at(last + 1), position)
    return Expected(None, position)  # the tail: caught by the anchor


def forge_pending(trail: Trail, *, variant: str) -> Expected:
    if variant == "copied_mac":
        forged = forge(copy_row_mac_of=trail.pending[0])
    elif variant == "with_link":
        forged = forge(key=settings_key())
        edit(forged.pk, chain_mac="a" * 64)
    else:
        forged = forge()
    return Expected(forged.pk, None)


def forge_sealed(trail: Trail, *, position: int, variant: str) -> Expected:
    """Insert a forged event at ``position``; later events move one position up."""
    previous = (
        AuditEvent.objects.filter(chain_seq=position - 1)
        .values_list("chain_mac", flat=True)
        .first()
        or chain.GENESIS
    )
    shift_positions(position, 1)
    if variant == "copied_mac":
        original = trail.at(min(position, trail.head))
        forged = forge(chain_seq=position, previous=previous, copy_row_mac_of=original)
    elif variant == "unkeyed":
        forged = forge(chain_seq=position, previous=previous, key=b"")
        unkeyed = f"{previous}|{position}|{forged.row_mac}".encode()
        edit(forged.pk, chain_mac=hashlib.sha256(unkeyed).hexdigest())
    else:
        forged = forge(chain_seq=position, previous=previous)
    return Expected(forged.pk, position)


def swap_two_positions(trail: Trail, *, first: int, second: int) -> Expected:
    low, high = sorted((first, second))
    swap_positions(trail.at(low), trail.at(high))
    return Expected(trail.at(high), low)


def swap_two_contents(trail: Trail, *, first: int, second: int, with_row_mac: bool) -> Expected:
    low, high = sorted((first, second))
    swap_content(trail.at(low), trail.at(high), with_row_mac=with_row_mac)
    return Expected(trail.at(low), low)


def truncate_tail(trail: Trail, *, position: int) -> Expected:
    AuditEvent.objects.filter(chain_seq__gte=position).delete()
    return Expected(None, position)


def rechain_all(trail: Trail, *, start: int, rows_too: bool, unkeyed: bool) -> Expected:
    """Recompute the chain from ``start`` with a key other than the application's."""
    rechain(start, key=b"" if unkeyed else WRONG_KEY, rows_too=rows_too)
    return Expected(trail.at(start), start)


def delete_and_rechain(trail: Trail, *, position: int) -> Expected:
    """Delete an event, close the gap and re-link what follows, as if it never existed."""
    delete(trail.at(position))
    shift_positions(position + 1, -1)
    rechain(position, key=WRONG_KEY, rows_too=False)
    return Expected(trail.at(position + 1), position)


def two_edits(trail: Trail, *, first: int, second: int, field: str) -> Expected:
    low, high = sorted((first, second))
    for position in (high, low):
        edit_text(trail, position=position, pending=None, field=field, text="modifié")
    return Expected(trail.at(low), low)


def forge_anchor(trail: Trail, *, variant: str, seq_delta: int) -> Expected:
    data = json.loads(trail.anchor.read_text())
    if variant == "seq":
        data["seq"] = max(1, data["seq"] - seq_delta)
    elif variant == "mac":
        data["mac"] = "0" * 64
    elif variant == "resigned":
        seq = max(1, data["seq"] - seq_delta)
        mac = AuditEvent.objects.values_list("chain_mac", flat=True).get(chain_seq=seq)
        data = {"seq": seq, "mac": mac}
        data["signature"] = hmac.digest(WRONG_KEY, f"anchor|{seq}|{mac}".encode(), "sha256").hex()
    elif variant == "unsigned":
        del data["signature"]
    trail.anchor.write_text("garbage{" if variant == "garbage" else json.dumps(data))
    return Expected(None, None)


def settings_key() -> bytes:
    from django.conf import settings

    return bytes(settings.AUDIT_KEY)


PENDING_INDEX = st.one_of(st.none(), st.integers(0, PENDING - 1))
TAMPERINGS: dict[str, tuple[Callable[..., Expected], st.SearchStrategy[dict[str, Any]]]] = {
    "edit a text field": (
        edit_text,
        st.fixed_dictionaries(
            {
                "position": SEALED_POSITION,
                "pending": PENDING_INDEX,
                "field": st.sampled_from(TEXT_FIELDS),
                "text": TEXT,
            }
        ),
    ),
    "edit the uuid": (
        edit_uuid,
        st.fixed_dictionaries(
            {"position": SEALED_POSITION, "pending": PENDING_INDEX, "value": st.uuids()}
        ),
    ),
    "edit the date": (
        edit_time,
        st.fixed_dictionaries(
            {
                "position": SEALED_POSITION,
                "pending": PENDING_INDEX,
                "microseconds": st.integers(-(10**13), 10**13).filter(bool),
            }
        ),
    ),
    "edit a MAC": (
        edit_mac,
        st.fixed_dictionaries(
            {
                "position": SEALED_POSITION,
                "pending": PENDING_INDEX,
                "field": st.sampled_from(["row_mac", "chain_mac"]),
                "value": st.one_of(HEX64, st.just("")),
                "upper": st.booleans(),
            }
        ),
    ),
    "move an event": (
        move,
        st.fixed_dictionaries(
            {
                "position": SEALED_POSITION,
                "to": st.sampled_from(["unsealed", "after", "below"]),
                "offset": st.integers(0, 5),
            }
        ),
    ),
    "link a pending event by hand": (
        seal_pending_by_hand,
        st.fixed_dictionaries(
            {"pending": st.integers(0, PENDING - 1), "offset": st.integers(1, 3)}
        ),
    ),
    "delete events": (
        delete_rows,
        st.fixed_dictionaries({"position": SEALED_POSITION, "count": st.integers(1, 4)}),
    ),
    "forge a pending event": (
        forge_pending,
        st.fixed_dictionaries(
            {"variant": st.sampled_from(["wrong_key", "copied_mac", "with_link"])}
        ),
    ),
    "forge a linked event": (
        forge_sealed,
        st.fixed_dictionaries(
            {
                "position": st.integers(1, SEALED + 1),
                "variant": st.sampled_from(["wrong_key", "copied_mac", "unkeyed"]),
            }
        ),
    ),
    "swap two positions": (
        swap_two_positions,
        st.fixed_dictionaries({"first": SEALED_POSITION, "second": SEALED_POSITION}).filter(
            lambda p: p["first"] != p["second"]
        ),
    ),
    "swap two contents": (
        swap_two_contents,
        st.fixed_dictionaries(
            {"first": SEALED_POSITION, "second": SEALED_POSITION, "with_row_mac": st.booleans()}
        ).filter(lambda p: p["first"] != p["second"]),
    ),
    "truncate the tail": (truncate_tail, st.fixed_dictionaries({"position": SEALED_POSITION})),
    "re-chain with another key": (
        rechain_all,
        st.fixed_dictionaries(
            {
                "start": st.one_of(st.just(1), SEALED_POSITION),
                "rows_too": st.booleans(),
                "unkeyed": st.booleans(),
            }
        ),
    ),
    "delete an event and re-chain": (
        delete_and_rechain,
        st.fixed_dictionaries({"position": st.integers(1, SEALED - 1)}),
    ),
    "edit two events": (
        two_edits,
        st.fixed_dictionaries(
            {
                "first": SEALED_POSITION,
                "second": SEALED_POSITION,
                "field": st.sampled_from(["action", "patient_ref", "actor_user_id"]),
            }
        ).filter(lambda p: p["first"] != p["second"]),
    ),
    "forge the anchor": (
        forge_anchor,
        st.fixed_dictionaries(
            {
                "variant": st.sampled_from(["seq", "mac", "resigned", "unsigned", "garbage"]),
                "seq_delta": st.integers(1, 50),
            }
        ),
    ),
}
CASES = st.sampled_from(sorted(TAMPERINGS)).flatmap(
    lambda name: st.tuples(st.just(name), TAMPERINGS[name][1])
)


@hypothesis_settings(
    max_examples=MUTATIONS,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=CASES)
def test_every_tampering_is_detected_at_the_first_tampered_event(
    trail: Trail, case: tuple[str, dict[str, Any]]
) -> None:
    name, params = case
    tamper = TAMPERINGS[name][0]
    report, expected = tampered(trail, lambda: tamper(trail, **params))
    assert_first_break(report, expected)


FIXED_CASES: dict[str, dict[str, Any]] = {
    "edit a text field": {"position": 7, "pending": None, "field": "action", "text": "x"},
    "edit the uuid": {"position": 7, "pending": 1, "value": uuid.uuid4()},
    "edit the date": {"position": 7, "pending": None, "microseconds": 1},
    "edit a MAC": {"position": 7, "pending": None, "field": "row_mac", "value": "", "upper": True},
    "move an event": {"position": 7, "to": "after", "offset": 1},
    "link a pending event by hand": {"pending": 0, "offset": 1},
    "delete events": {"position": 7, "count": 2},
    "forge a pending event": {"variant": "wrong_key"},
    "forge a linked event": {"position": 7, "variant": "unkeyed"},
    "swap two positions": {"first": 7, "second": 9},
    "swap two contents": {"first": 7, "second": 9, "with_row_mac": True},
    "truncate the tail": {"position": 7},
    "re-chain with another key": {"start": 1, "rows_too": True, "unkeyed": False},
    "delete an event and re-chain": {"position": 7},
    "edit two events": {"first": 7, "second": 9, "field": "action"},
    "forge the anchor": {"variant": "resigned", "seq_delta": 3},
}


def test_each_tampering_is_undone_before_the_next_one(trail: Trail) -> None:
    assert sorted(FIXED_CASES) == sorted(TAMPERINGS)
    for name, params in sorted(FIXED_CASES.items()):
        tamper = TAMPERINGS[name][0]

        def apply(
            tamper: Callable[..., Expected] = tamper, params: dict[str, Any] = params
        ) -> Expected:
            return tamper(trail, **params)

        report, expected = tampered(trail, apply)
        assert_first_break(report, expected)
        intact = verify_chain()
        assert intact.ok, f"{name} was not undone: {intact.broken}"
        assert (intact.checked, intact.pending) == (SEALED, PENDING)


# The same, one by one, on a small trail --------------------------------------------------------


def test_an_edited_patient_reference_is_named(small_trail: Trail) -> None:
    report, _ = tampered(
        small_trail,
        lambda: edit_text(small_trail, position=5, pending=None, field="patient_ref", text="autre"),
    )
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (small_trail.at(5), 5)
    assert "content altered" in report.broken.reason


def test_a_deleted_event_is_named_by_its_position(small_trail: Trail) -> None:
    report, _ = tampered(small_trail, lambda: delete_rows(small_trail, position=4, count=1))
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (small_trail.at(5), 4)
    assert "missing" in report.broken.reason


def test_a_forged_event_inserted_in_the_chain_is_named(small_trail: Trail) -> None:
    report, expected = tampered(
        small_trail, lambda: forge_sealed(small_trail, position=3, variant="wrong_key")
    )
    assert_first_break(report, expected)
    assert report.broken is not None and "content altered" in report.broken.reason


def test_swapped_positions_break_the_chain_at_the_earlier_one(small_trail: Trail) -> None:
    report, _ = tampered(small_trail, lambda: swap_two_positions(small_trail, first=8, second=3))
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (small_trail.at(8), 3)
    assert "chain link broken" in report.broken.reason


def test_a_cut_tail_is_reported_from_the_first_missing_position(small_trail: Trail) -> None:
    report, _ = tampered(small_trail, lambda: truncate_tail(small_trail, position=10))
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (None, 10)
    assert "10..12 deleted" in report.broken.reason


def test_a_chain_rebuilt_with_another_key_fails_at_its_first_event(small_trail: Trail) -> None:
    report, _ = tampered(
        small_trail, lambda: rechain_all(small_trail, start=1, rows_too=True, unkeyed=False)
    )
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (small_trail.at(1), 1)


# Reading the rows -------------------------------------------------------------------------------


def test_an_event_stamped_on_a_whole_second_verifies(record: Record, seal: Seal) -> None:
    whole = dt.datetime(2025, 6, 1, 8, 30, 0, tzinfo=dt.UTC)
    with mock.patch("dcc.audit.services.timezone.now", return_value=whole):
        record_event(action="patient.read")
    record(3)
    seal()
    assert AuditEvent.objects.filter(occurred_at=whole).exists()
    report = verify_chain()
    assert report.ok, report.broken
    assert report.checked == 4


def test_a_value_the_application_could_not_even_load_is_reported_not_crashed(
    record: Record, seal: Seal
) -> None:
    events = record(4)
    seal()
    target = events[2].pk
    with guard_off(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE audit_auditevent SET occurred_at = '-infinity' WHERE id = %s", [target]
            )
        else:
            cursor.execute(
                "UPDATE audit_auditevent SET occurred_at = 'pas une date', uuid = 'zz' WHERE id = %s",
                [target],
            )
    report = verify_chain()
    assert report.broken is not None
    assert (report.broken.event_id, report.broken.chain_seq) == (target, 3)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL rendering only")
def test_postgresql_renders_the_canonical_bytes_exactly_as_python_does(record: Record) -> None:
    record(12)
    with mock.patch(
        "dcc.audit.services.timezone.now",
        return_value=dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    ):
        record_event(
            action='d\'après "x" \\ \t',
            patient_ref="ÉLÉONORE-ß-漢字-😀",
            details={"k": "\u001f\n", "z": None, "n": 1.5},
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {chain.POSTGRES_CANONICAL_SQL} FROM audit_auditevent"  # noqa: S608
        )
        rendered = dict(cursor.fetchall())
    assert len(rendered) == 13
    for event in AuditEvent.objects.all():
        content = [getattr(event, name) for name in chain.CONTENT_FIELDS]
        assert rendered[event.pk].encode() == chain.canonical_bytes(content)
