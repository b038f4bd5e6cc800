"""Checking the audit trail end to end: every row's MAC, every chain link, the anchor."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from django.conf import settings

from dcc.audit import anchor, chain
from dcc.audit.models import AuditEvent

_FIELDS = ("id", "chain_seq", "chain_mac", "row_mac", *chain.CONTENT_FIELDS)


@dataclass(frozen=True)
class Break:
    event_id: int | None
    chain_seq: int | None
    reason: str

    def describe(self) -> str:
        where = f"event id={self.event_id}" if self.event_id is not None else "chain"
        if self.chain_seq is not None:
            where += f" (chain position {self.chain_seq})"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Report:
    checked: int
    pending: int
    seconds: float
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_chain(*, chunk_size: int = 20000) -> Report:
    """Walk the whole trail and stop at the first broken event."""
    started = time.perf_counter()
    key = settings.AUDIT_KEY
    keys_by_id = {settings.AUDIT_KEY_ID: key}
    expected_seq = 1
    previous = chain.GENESIS
    checked = 0
    rows = (
        AuditEvent.objects.filter(chain_seq__isnull=False)
        .order_by("chain_seq")
        .values_list(*_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    digest = hmac.digest
    for row in rows:
        event_id, seq, link_mac, mac = row[0], row[1], row[2], row[3]
        content = row[4:]
        row_key = keys_by_id.get(content[-1])
        if seq != expected_seq:
            missing = expected_seq if seq > expected_seq else seq
            return _report(
                checked,
                started,
                Break(event_id, missing, "event missing or moved before this position"),
            )
        if row_key is None:
            return _report(
                checked, started, Break(event_id, seq, f"unknown key id {content[-1]!r}")
            )
        if digest(row_key, chain.canonical_bytes(content), "sha256").hex() != mac:
            return _report(
                checked, started, Break(event_id, seq, "content altered (row MAC mismatch)")
            )
        previous_expected = chain.chain_mac(key, previous, seq, mac)
        if previous_expected != link_mac:
            return _report(
                checked,
                started,
                Break(event_id, seq, "chain link broken (inserted, reordered or re-chained)"),
            )
        previous = link_mac
        expected_seq += 1
        checked += 1
    last_seq = expected_seq - 1
    try:
        head = anchor.read()
    except (ValueError, KeyError) as exc:
        return _report(checked, started, Break(None, None, f"anchor unreadable: {exc}"))
    if head is not None:
        if head.seq > last_seq:
            return _report(
                checked,
                started,
                Break(
                    None,
                    last_seq + 1,
                    f"events {last_seq + 1}..{head.seq} deleted (anchor is at {head.seq})",
                ),
            )
        anchored = (
            AuditEvent.objects.filter(chain_seq=head.seq).values_list("id", "chain_mac").first()
        )
        if anchored is None or anchored[1] != head.mac:
            return _report(
                checked,
                started,
                Break(
                    anchored[0] if anchored else None,
                    head.seq,
                    "chain differs from the anchored head",
                ),
            )
    pending = 0
    for row in (
        AuditEvent.objects.filter(chain_seq__isnull=True)
        .order_by("id")
        .values_list(*_FIELDS)
        .iterator(chunk_size=chunk_size)
    ):
        row_key = keys_by_id.get(row[-1])
        if row_key is None or chain.row_mac(row_key, row[4:]) != row[3]:
            return _report(
                checked, started, Break(row[0], None, "unsealed event with an invalid MAC (forged)")
            )
        if row[2]:
            return _report(checked, started, Break(row[0], None, "chain MAC on an unsealed event"))
        pending += 1
    return Report(
        checked=checked, pending=pending, seconds=time.perf_counter() - started, broken=None
    )


def _report(checked: int, started: float, broken: Break) -> Report:
    return Report(checked=checked, pending=0, seconds=time.perf_counter() - started, broken=broken)
