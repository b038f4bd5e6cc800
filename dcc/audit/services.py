"""Writing the audit trail: ``record_event`` for every service, and the sealer.

``record_event`` inserts the event in the caller's transaction: if the insert fails, the
business change rolls back with it. Events are inserted unlinked (each already protected by
its own keyed MAC) and linked into the single chain right after commit by
``seal_pending_events``, in a short transaction of its own. Audited requests therefore never
wait for one another while they run; only the sealer serialises, for the few milliseconds it
takes to link a batch, and it links whatever any worker has committed, so no event escapes.
"""

from __future__ import annotations

import atexit
import functools
import hmac
import logging
import os
import re
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dcc.audit import anchor, chain
from dcc.audit.choices import Outcome
from dcc.audit.models import AuditEvent
from dcc.audit.verify import read_rows, select_rows
from dcc.core.context import Actor, current_actor

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SEAL_BATCH = 5000
_SEAL_LOCK_ID = 0x0DCCA0D1


def _clean(value: str, limit: int) -> str:
    return _CONTROL.sub(" ", value)[:limit]


def canonical_details(details: Mapping[str, Any] | None) -> str:
    if not details:
        return ""
    return orjson.dumps(details, option=orjson.OPT_SORT_KEYS, default=str).decode()


def record_event(
    *,
    action: str,
    outcome: str = Outcome.SUCCESS,
    patient_ref: str = "",
    resource_type: str = "",
    resource_id: str = "",
    resource_version: str = "",
    details: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEvent | None:
    """Trace one action. Call it inside the service's transaction, after the checks.

    Returns None only when auditing is switched off (benchmarks in development mode)."""
    if not settings.AUDIT_ENABLED:
        return None
    who = actor or current_actor()
    event = AuditEvent(
        uuid=uuid.uuid4(),
        occurred_at=timezone.now(),
        actor_kind=who.kind,
        actor_user_id=who.user_id,
        actor_rpps=who.rpps,
        actor_structure_id=who.structure_id,
        actor_role=who.role,
        actor_label=_clean(who.label, 200),
        action=_clean(action, 64),
        outcome=outcome,
        patient_ref=_clean(patient_ref, 64),
        resource_type=_clean(resource_type, 64),
        resource_id=_clean(resource_id, 64),
        resource_version=_clean(resource_version, 32),
        purpose=who.purpose,
        source_ip=_clean(who.source_ip, 45),
        request_id=_clean(who.request_id, 64),
        details=canonical_details(details),
        key_id=settings.AUDIT_KEY_ID,
    )
    content = [getattr(event, name) for name in chain.CONTENT_FIELDS]
    event.row_mac = chain.row_mac(settings.AUDIT_KEY, content)
    _insert(event, content)
    _schedule_seal()
    return event


def _insert(event: AuditEvent, content: list[Any]) -> None:
    """One plain INSERT: on every audited request the ORM's save() cost more than the rest of
    the insert (measured in docs/performance.md)."""
    meta = AuditEvent._meta
    values = [
        meta.get_field(name).get_db_prep_save(value, connection)  # type: ignore[union-attr]
        if name in ("uuid", "occurred_at")
        else value
        for name, value in zip(chain.CONTENT_FIELDS, content, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor), [*values, event.row_mac, ""])
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias


@functools.cache
def _insert_sql(vendor: str) -> str:
    columns = [*chain.CONTENT_FIELDS, "row_mac", "chain_mac"]
    placeholders = ", ".join(["%s"] * len(columns))
    return (
        f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({placeholders}) RETURNING id"
    )


def record_denied(*, action: str, **fields: Any) -> None:
    """Trace a refused action in a transaction of its own, so it survives the refusal."""
    with transaction.atomic():
        record_event(action=action, outcome=Outcome.DENIED, **fields)


def _seal_after_commit() -> None:
    try:
        seal_pending_events()
    except Exception:
        # The events are committed and MAC-protected; the next seal (or the periodic task)
        # links them. Never fail the user's request for it.
        logger.exception("audit sealing deferred")


class CoalescingSealer:
    """Seal at most once per window per process, on a timer thread, outside any request.

    The first audited commit of a window starts a timer; commits during the window ride on
    it; the timer's seal links everything committed before it reads the pending rows, and a
    commit that lands after that read starts the next window. No event escapes, every event
    is chained within about one window of its commit, and a busy process pays for one seal
    per window instead of one per request. Restarted cleanly after a fork."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._pid = 0
        self._done = threading.Event()
        self._done.set()

    def request(self) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._timer = os.getpid(), None
                # A command or worker that exits within the window still seals what it wrote.
                atexit.register(self.flush)
            if self._timer is not None:
                return
            self._done.clear()
            self._timer = threading.Timer(settings.AUDIT_SEAL_WINDOW_MS / 1000, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no seal is due (tests, benchmarks, orderly shutdown)."""
        return self._done.wait(timeout)

    def flush(self) -> None:
        """Seal now what a pending timer would have sealed (at process exit)."""
        with self._lock:
            timer = self._timer
        if timer is not None:
            timer.cancel()
            self._fire()

    def _fire(self) -> None:
        from django.db import connection as thread_connection

        with self._lock:
            self._timer = None
        try:
            seal_pending_events()
        except Exception:
            logger.exception("audit sealing deferred")
        finally:
            # A timer thread never lives long: its connection must not outlive it.
            thread_connection.close()
            with self._lock:
                if self._timer is None:
                    self._done.set()


coalescing_sealer = CoalescingSealer()


def _request_coalesced_seal() -> None:
    coalescing_sealer.request()


def _schedule_seal() -> None:
    """Seal once after the outermost commit, however many events the transaction records.

    ``on_commit`` seals in the request right after its commit; ``coalesced`` asks this
    process's timer to seal within ``DCC_AUDIT_SEAL_WINDOW_MS``; ``worker`` leaves it to the
    periodic task. The pending callbacks are looked up rather than remembered in a flag: a
    rolled-back transaction or savepoint drops its callbacks, and a stale flag would then stop
    every later transaction on this connection from being sealed."""
    mode = settings.AUDIT_SEAL_MODE
    callback = {"on_commit": _seal_after_commit, "coalesced": _request_coalesced_seal}.get(mode)
    if callback is None:
        return
    if any(entry[1] is callback for entry in connection.run_on_commit):
        return
    transaction.on_commit(callback)


def seal_pending_events(*, batch: int = SEAL_BATCH) -> int:
    """Link every committed, not yet linked event into the chain. Returns how many."""
    total = 0
    after_id = 0
    while True:
        read, after_id, sealed = _seal_batch(batch, after_id)
        total += sealed
        if read < batch:
            return total


def _table() -> str:
    return connection.ops.quote_name(AuditEvent._meta.db_table)


def _chain_mac_at(seq: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT chain_mac FROM {_table()} WHERE chain_seq = %s", [seq])  # noqa: S608
        row = cursor.fetchone()
    return str(row[0]) if row else None


def _chain_head() -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT chain_seq, chain_mac FROM {_table()} "  # noqa: S608
            "WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else (0, chain.GENESIS)


@functools.cache
def _pending_sql(vendor: str, limit: int) -> str:
    return select_rows(
        "chain_seq IS NULL AND id > %s", order="id", limit=limit, render_in_sql=False
    )


def _seal_batch(batch: int, after_id: int) -> tuple[int, int, int]:
    """Seal up to ``batch`` pending events with an id above ``after_id``.

    Returns how many pending rows were read, the last id read and how many were sealed: rows
    with an invalid MAC are read but never sealed, and the next batch starts after them.
    Plain SQL throughout: this runs after every audited commit."""
    keys_by_id = settings.AUDIT_KEYS
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEAL_LOCK_ID])
        seq, previous = _chain_head()
        disagreement = anchor.disagreement(seq, previous, _chain_mac_at)
        if disagreement:
            # Chaining on would bury the evidence (a truncated or replaced tail) under new
            # links. The events stay pending, each protected by its own MAC, until someone
            # looks: the verifier names the break and the pending count keeps growing.
            logger.error("audit sealing refused: %s", disagreement)
            return 0, after_id, 0
        pending = list(read_rows(_pending_sql(connection.vendor, batch), [after_id]))
        links: list[tuple[int, str, int]] = []
        for event_id, _seq, _link, mac, key_id, content in pending:
            row_key = keys_by_id.get(key_id or "")
            if row_key is None or hmac.digest(row_key, content, "sha256").hex() != mac:
                # A row nobody holding the key wrote: never chain it; the verifier names it.
                logger.error("audit event id=%s has an invalid MAC; left unsealed", event_id)
                continue
            seq += 1
            # Each link is keyed like its row, so rows written before a key rotation still
            # chain and verify with their (retired) key.
            previous = chain.chain_mac(row_key, previous, seq, mac)
            links.append((seq, previous, event_id))
        if links:
            update = f"UPDATE {_table()} SET chain_seq = %s, chain_mac = %s WHERE id = %s"  # noqa: S608
            with connection.cursor() as cursor:
                if len(links) == 1:  # the usual case, after one request: no batch machinery
                    cursor.execute(update, links[0])
                else:
                    cursor.executemany(update, links)
            head_seq, head_mac = seq, previous
            transaction.on_commit(lambda: anchor.advance(head_seq, head_mac))
        last_id = pending[-1][0] if pending else after_id
        return len(pending), last_id, len(links)
