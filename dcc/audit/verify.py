"""Checking the audit trail end to end: every row's MAC, every chain link, the anchor.

The walk reads raw rows with a plain cursor (a server-side one on PostgreSQL) rather than
through the ORM: at a million rows the ORM's per-row conversions would cost more than the
cryptography. Each row's canonical bytes are those ``chain.canonical_bytes`` defines;
PostgreSQL renders them itself (``chain.POSTGRES_CANONICAL_SQL``), SQLite's stored text is
turned into them here. Whatever a tamperer stores, even a value the ORM could not load, ends
up as a MAC mismatch on that row, never as a crash of the verifier.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from dcc.audit import anchor, chain
from dcc.audit.models import AuditEvent

# One row of the walk: id, chain_seq, chain_mac, row_mac, key_id, canonical content bytes.
Row = tuple[int, int | None, str | None, str | None, str | None, bytes]


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
    """Walk the whole trail and stop at the first broken event.

    The anchor is read before the walk: it only moves forward, after the links it names are
    committed, so a seal running meanwhile can never make an intact trail look truncated."""
    started = time.perf_counter()
    anchor_error = ""
    try:
        head = anchor.read()
    except ValueError as exc:
        head, anchor_error = None, str(exc)
    with _snapshot():
        walk = _walk_chain(chunk_size, head.seq if head else None)
        checked, broken, last_seq, anchored_mac = walk
        if broken is None:
            broken = _check_anchor(head, anchor_error, last_seq, anchored_mac)
        if broken is not None:
            return Report(checked, 0, time.perf_counter() - started, broken)
        pending, broken = _check_pending(chunk_size)
    return Report(checked, pending, time.perf_counter() - started, broken)


def _walk_chain(
    chunk_size: int, anchored_seq: int | None
) -> tuple[int, Break | None, int, str | None]:
    """Check sealed rows in chain order. Returns (checked, break, last position, MAC at anchor)."""
    keys_by_id = settings.AUDIT_KEYS
    expected_seq = 1
    previous = chain.GENESIS
    anchored_mac: str | None = None
    digest = hmac.digest
    link_mac = chain.chain_mac
    for event_id, seq, link, mac, key_id, content in _rows(sealed=True, chunk_size=chunk_size):
        if seq != expected_seq:
            # Positions are unique and read in order, so only a gap or a position below 1.
            if seq is not None and seq > expected_seq:
                found = Break(event_id, expected_seq, "event missing or moved before this one")
            else:
                found = Break(event_id, seq, "event moved to a position that cannot exist")
            return expected_seq - 1, found, expected_seq - 1, anchored_mac
        row_key = keys_by_id.get(key_id or "")
        if row_key is None:
            found = Break(event_id, seq, f"unknown key id {key_id!r}")
            return expected_seq - 1, found, expected_seq - 1, anchored_mac
        if digest(row_key, content, "sha256").hex() != mac:
            found = Break(event_id, seq, "content altered (row MAC mismatch)")
            return expected_seq - 1, found, expected_seq - 1, anchored_mac
        if link_mac(row_key, previous, seq, str(mac)) != link:
            found = Break(event_id, seq, "chain link broken (inserted, reordered or re-chained)")
            return expected_seq - 1, found, expected_seq - 1, anchored_mac
        if seq == anchored_seq:
            anchored_mac = link
        previous = link
        expected_seq += 1
    return expected_seq - 1, None, expected_seq - 1, anchored_mac


def _check_anchor(
    head: anchor.Anchor | None, anchor_error: str, last_seq: int, anchored_mac: str | None
) -> Break | None:
    if anchor_error:
        return Break(None, None, f"anchor unreadable: {anchor_error}")
    if head is None:
        return None
    if head.seq > last_seq:
        return Break(
            None,
            last_seq + 1,
            f"events {last_seq + 1}..{head.seq} deleted (anchor is at {head.seq})",
        )
    if anchored_mac != head.mac:
        event_id = AuditEvent.objects.filter(chain_seq=head.seq).values_list("id", flat=True)
        return Break(event_id.first(), head.seq, "chain differs from the anchored head")
    return None


def _check_pending(chunk_size: int) -> tuple[int, Break | None]:
    """Unsealed rows: each must carry a valid MAC and no chain MAC."""
    keys_by_id = settings.AUDIT_KEYS
    pending = 0
    for event_id, _seq, link, mac, key_id, content in _rows(sealed=False, chunk_size=chunk_size):
        row_key = keys_by_id.get(key_id or "")
        if row_key is None or hmac.digest(row_key, content, "sha256").hex() != mac:
            return pending, Break(event_id, None, "unsealed event with an invalid MAC (forged)")
        if link:
            return pending, Break(event_id, None, "chain MAC on an unsealed event")
        pending += 1
    return pending, None


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the table for the whole check, without blocking writers.

    On PostgreSQL a repeatable-read transaction (which also lets the server-side cursor stream
    instead of materialising a held result). On SQLite (whose transactions take the write
    lock here) each query is its own snapshot: the walk is one statement."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _rows(*, sealed: bool, chunk_size: int) -> Iterator[Row]:
    if sealed:
        sql = select_rows("chain_seq IS NOT NULL", order="chain_seq")
    else:
        sql = select_rows("chain_seq IS NULL", order="id")
    return read_rows(sql, stream=True, chunk_size=chunk_size)


def select_rows(
    where: str, *, order: str, limit: int | None = None, render_in_sql: bool = True
) -> str:
    """SQL selecting the rows matching ``where``, in the shape ``read_rows`` decodes: id,
    chain_seq, chain_mac, row_mac, key_id, then the content.

    On PostgreSQL the content comes already canonical, one text column, unless
    ``render_in_sql`` is off: rendering it costs the planner more than Python takes to do it
    for a handful of rows (the sealer's case, after every commit)."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    if connection.vendor == "postgresql" and render_in_sql:
        content = chain.POSTGRES_CANONICAL_SQL
    else:
        as_text = "occurred_at::text" if connection.vendor == "postgresql" else "occurred_at || ''"
        content = ", ".join(
            as_text if name == "occurred_at" else name for name in chain.CONTENT_FIELDS
        )
    limited = f" LIMIT {int(limit)}" if limit else ""
    return (
        f"SELECT id, chain_seq, chain_mac, row_mac, key_id, {content} "  # noqa: S608
        f"FROM {table} WHERE {where} ORDER BY {order}{limited}"
    )


def read_rows(
    sql: str, params: Sequence[int] = (), *, stream: bool = False, chunk_size: int = 20000
) -> Iterator[Row]:
    """Run SQL made of ``select_rows`` and yield each row with its canonical bytes.

    ``stream`` reads through a server-side cursor on PostgreSQL (inside a transaction, so
    that it streams rather than materialising a held result)."""
    postgres = connection.vendor == "postgresql"
    join = chain.SEPARATOR.join
    with connection.chunked_cursor() if stream and postgres else connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(chunk_size):
            for row in batch:
                if len(row) == 6:  # rendered by PostgreSQL
                    yield row[0], row[1], row[2], row[3], row[4], row[5].encode()
                    continue
                content = [_stored_uuid(row[5]), _stored_time(row[6]), *map(str, row[7:])]
                yield row[0], row[1], row[2], row[3], row[4], join(content).encode()


def _stored_uuid(stored: object) -> str:
    """The canonical text of a stored UUID (SQLite keeps the 32 hex digits as text)."""
    if isinstance(stored, uuid.UUID):
        return str(stored)
    if isinstance(stored, str) and len(stored) == 32:
        return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
    try:
        return str(uuid.UUID(str(stored)))
    except ValueError:
        return f"invalid:{stored}"


def _stored_time(stored: object) -> str:
    """The canonical text of a date-time as the database prints it: SQLite's stored UTC text,
    or PostgreSQL's output in the UTC session time zone ("…+00"). Anything unusual goes
    through a full parse; what does not parse cannot match a genuine MAC."""
    if isinstance(stored, str) and stored[10:11] == " ":
        text = stored[:-3] if stored.endswith("+00") else stored
        if len(text) == 26 and text[19] == ".":
            return f"{text[:10]}T{text[11:]}Z"
        if len(text) == 19:
            return f"{text[:10]}T{text[11:]}.000000Z"
    try:
        parsed = parse_datetime(str(stored))
    except ValueError:
        parsed = None
    if parsed is None:
        return f"invalid:{stored}"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return chain.canonical_time(parsed)
