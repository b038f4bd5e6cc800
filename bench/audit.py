"""Scenario ``audit``: what tracing costs a page, and how fast the whole trail verifies.

(a) An authenticated page (full middleware stack, base layout) that records one audit event,
    audit on against audit off, alternated: median and p95 per request (goal G9: ≤ +10 %).
(b) ``verify_chain`` over ``--scale`` events against the lower bound: a raw cursor fetching
    the same columns and computing the same two HMACs per row in a tight loop (goal D6:
    ≥ 50,000 events/s).
(c) ``seal_pending_events`` against a raw-SQL sealer doing the same reads, MACs and writes.

This module is also the URL configuration of the page in (a).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hmac
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.db.models import Field
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path

from bench.harness import (
    Goal,
    Metric,
    Options,
    alternate,
    bench_physician,
    logged_in_client,
    median,
    percentile,
)
from config import urls as project_urls
from dcc.audit import chain
from dcc.audit.choices import Action
from dcc.audit.models import AuditEvent
from dcc.audit.services import coalescing_sealer, record_event, seal_pending_events
from dcc.audit.verify import verify_chain

PAGE_URL = "/bench/page/"
DEFAULT_REQUESTS = 2000
DEFAULT_SCALE = {"sqlite": 100_000, "postgresql": 1_000_000}
SEAL_EVENTS = 20_000


@functools.cache
def _page_template() -> Any:
    return engines["django"].from_string(
        '{% extends "base.html" %}{% block title %}Tableau de bord{% endblock %}'
        "{% block content %}<h1>Bonjour {{ user.full_name }}</h1>"
        "<p>Dernière connexion : {{ now }}</p>{% endblock %}"
    )


@login_required
def audited_page(request: HttpRequest) -> HttpResponse:
    """A simple page traced like every consultation: one event, written before the page is.

    A consultation changes nothing else, so its trace needs no transaction of its own: the
    INSERT commits by itself (one round trip) before the response exists; if it fails, the
    page is not served."""
    record_event(action=Action.PAGE_VIEWED, resource_type="Page", resource_id="bench")
    return HttpResponse(_page_template().render({"now": dt.date(2025, 1, 1)}, request))


urlpatterns = [path(PAGE_URL.strip("/") + "/", audited_page), *project_urls.urlpatterns]


def run(options: Options) -> list[Metric]:
    # Anchoring on, as in production, but never into the real anchor file.
    anchor_dir = Path(tempfile.mkdtemp(prefix="dcc-bench-anchor-"))
    try:
        # Sealing in the request outside the measured variants (which set their own mode), so
        # that no timer seal from one part lands in the middle of the next.
        with override_settings(
            AUDIT_ANCHOR_FILE=str(anchor_dir / "anchor.json"), AUDIT_SEAL_MODE="on_commit"
        ):
            return page_cost(options) + verification_speed(options) + sealing_speed(options)
    finally:
        shutil.rmtree(anchor_dir, ignore_errors=True)


# (a) page ----------------------------------------------------------------------------------------


def _logged_in_client() -> Client:
    """A physician with a confirmed TOTP device, second factor verified, charter accepted."""
    _structure, user = bench_physician()
    return logged_in_client(user)


def _requests(client: Client, count: int, *, audit: bool, seal: str = "on_commit") -> list[float]:
    """Microseconds per request."""
    samples: list[float] = []
    clock = time.perf_counter_ns
    with override_settings(AUDIT_ENABLED=audit, AUDIT_SEAL_MODE=seal):
        for _ in range(count):
            started = clock()
            response = client.get(PAGE_URL)
            samples.append((clock() - started) / 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{PAGE_URL} answered {response.status_code}")
    if seal == "worker":
        seal_pending_events()  # what the periodic task would do; untimed, before the next round
    if seal == "coalesced" and not coalescing_sealer.wait_idle(60):
        raise RuntimeError("the coalesced seal did not run")
    return samples


def _queries_per_request(client: Client, *, audit: bool) -> int:
    with CaptureQueriesContext(connection) as queries, override_settings(AUDIT_ENABLED=audit):
        client.get(PAGE_URL)
    return len(queries)


def page_cost(options: Options) -> list[Metric]:
    count = options.requests or DEFAULT_REQUESTS
    with override_settings(ROOT_URLCONF=__name__):
        client = _logged_in_client()
        _requests(client, max(20, count // 10), audit=True)  # warm-up: caches, templates
        _requests(client, max(20, count // 10), audit=False)
        before = AuditEvent.objects.count()
        options.log(
            f"page: {options.repeat} rounds × {count} requests each: audit off, "
            "audit on (sealed after each commit), audit on (sealed by the worker), "
            "audit on (coalesced sealing)"
        )
        audited, plain, deferred, coalesced = alternate(
            [
                lambda: _requests(client, count, audit=True),
                lambda: _requests(client, count, audit=False),
                lambda: _requests(client, count, audit=True, seal="worker"),
                lambda: _requests(client, count, audit=True, seal="coalesced"),
            ],
            options.repeat,
        )
        recorded = AuditEvent.objects.count() - before
        if recorded != 3 * count * options.repeat:
            raise RuntimeError(f"expected {3 * count * options.repeat} events, got {recorded}")
        if AuditEvent.objects.filter(chain_seq__isnull=True).exists():
            raise RuntimeError("page events were left unsealed")
        queries_on = _queries_per_request(client, audit=True)
        queries_off = _queries_per_request(client, audit=False)
    off = "audit off"
    return [
        Metric(
            "audit.page.median",
            median(audited),
            "µs",
            median(plain),
            off,
            "lower",
            Goal("ratio", "max", 1.10),
            samples=len(audited),
            note="sealed in the request after each commit (DCC_AUDIT_SEAL=on_commit)",
        ),
        Metric(
            "audit.page.p95",
            percentile(audited, 0.95),
            "µs",
            percentile(plain, 0.95),
            off,
            "lower",
            Goal("difference", "max", 1000.0),
            samples=len(audited),
            note="G9: p95 added ≤ 1 ms",
        ),
        Metric(
            "audit.page.worker_seal.median",
            median(deferred),
            "µs",
            median(plain),
            off,
            "lower",
            Goal("ratio", "max", 1.10),
            samples=len(deferred),
            note="insert only; sealed in batches by the worker (DCC_AUDIT_SEAL=worker)",
        ),
        Metric(
            "audit.page.worker_seal.p95",
            percentile(deferred, 0.95),
            "µs",
            percentile(plain, 0.95),
            off,
            "lower",
            Goal("difference", "max", 1000.0),
            samples=len(deferred),
        ),
        Metric(
            "audit.page.coalesced_seal.median",
            median(coalesced),
            "µs",
            median(plain),
            off,
            "lower",
            Goal("ratio", "max", 1.10),
            samples=len(coalesced),
            note="insert in the request; one seal per 200 ms window (DCC_AUDIT_SEAL=coalesced, the default)",
        ),
        Metric(
            "audit.page.coalesced_seal.p95",
            percentile(coalesced, 0.95),
            "µs",
            percentile(plain, 0.95),
            off,
            "lower",
            Goal("difference", "max", 1000.0),
            samples=len(coalesced),
        ),
        Metric("audit.page.queries", queries_on, "queries", queries_off, off, "lower", samples=1),
    ]


# (b) verification --------------------------------------------------------------------------------

_ACTIONS = [a.value for a in Action]


def _generated_rows(count: int, seq: int, previous: str, *, seed: int) -> Iterator[tuple[Any, ...]]:
    """Realistic events with valid MACs and links, continuing the chain after (seq, previous).

    A given seed gives the same events on every run (their uuids too: one seed per batch)."""
    key, key_id = settings.AUDIT_KEY, settings.AUDIT_KEY_ID
    rng = random.Random(seed)
    users = [
        (str(uuid.UUID(int=rng.getrandbits(128))), f"1{rng.randrange(10**10):010d}")
        for _ in range(500)
    ]
    structures = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(40)]
    started = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for index in range(count):
        user_id, rpps = users[index % len(users)]
        action = _ACTIONS[rng.randrange(len(_ACTIONS))]
        content = (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            started + dt.timedelta(microseconds=index * 86_413 + rng.randrange(1000)),
            "user",
            user_id,
            rpps,
            structures[index % len(structures)],
            "physician",
            f"praticien{index % 500}@chu.test",
            action,
            "denied" if index % 50 == 0 else "success",
            f"ipp-{rng.randrange(10**6):06d}",
            "DocumentReference",
            str(rng.randrange(10**7)),
            "1",
            "normal",
            f"10.{index % 250}.{index % 199}.{index % 251}",
            f"{rng.getrandbits(128):032x}",
            '{"query":"dupont","results":12}' if action.endswith("viewed") else "",
            key_id,
        )
        mac = chain.row_mac(key, content)
        seq += 1
        previous = chain.chain_mac(key, previous, seq, mac)
        yield (*content, mac, seq, previous)


_COLUMNS = [*chain.CONTENT_FIELDS, "row_mac", "chain_seq", "chain_mac"]


def _head() -> tuple[int, str]:
    head = (
        AuditEvent.objects.filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("chain_seq", "chain_mac")
        .first()
    )
    return (int(head[0] or 0), head[1]) if head else (0, chain.GENESIS)


def _field(name: str) -> Field[Any, Any]:
    field = AuditEvent._meta.get_field(name)
    assert isinstance(field, Field)  # noqa: S101 - concrete columns only
    return field


def _insert(rows: Iterator[tuple[Any, ...]], columns: list[str]) -> None:
    table = AuditEvent._meta.db_table
    names = ", ".join(columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        fields = [_field(name) for name in columns]
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"
        batch: list[list[Any]] = []
        for row in rows:
            batch.append(
                [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
            )
            if len(batch) == 10_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _settle() -> None:
    """Statistics and (PostgreSQL) visibility hints, so no timed run pays for them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM (ANALYZE) {AuditEvent._meta.db_table}")
        else:
            cursor.execute("ANALYZE")


def _raw_lower_bound() -> float:
    """Seconds to fetch every linked row's columns and compute its two HMACs, nothing more."""
    key, digest, join = settings.AUDIT_KEY, hmac.digest, chain.SEPARATOR.join
    columns = ", ".join(["chain_seq", "row_mac", *chain.CONTENT_FIELDS])
    sql = (
        f"SELECT {columns} FROM {AuditEvent._meta.db_table} "
        "WHERE chain_seq IS NOT NULL ORDER BY chain_seq"
    )
    started = time.perf_counter()
    previous = chain.GENESIS
    postgres = connection.vendor == "postgresql"
    with contextlib.ExitStack() as stack:
        if postgres:  # a server-side cursor streams only inside a transaction, as in the verifier
            stack.enter_context(transaction.atomic())
        cursor = connection.chunked_cursor() if postgres else connection.cursor()
        with cursor:
            cursor.execute(sql)
            while rows := cursor.fetchmany(20_000):
                for row in rows:
                    mac = digest(key, join(map(str, row[2:])).encode(), "sha256").hex()
                    previous = digest(key, f"{previous}|{row[0]}|{mac}".encode(), "sha256").hex()
    return time.perf_counter() - started


def verification_speed(options: Options) -> list[Metric]:
    count = options.scale or DEFAULT_SCALE.get(connection.vendor, 100_000)
    seq, previous = _head()
    options.log(f"verification: generating {count:,} linked events")
    started = time.perf_counter()
    _insert(_generated_rows(count, seq, previous, seed=0), _COLUMNS)
    _settle()
    options.log(f"verification: generated in {time.perf_counter() - started:.1f} s")
    total = AuditEvent.objects.filter(chain_seq__isnull=False).count()

    def verify() -> list[float]:
        report = verify_chain()
        if not report.ok or report.checked != total:
            raise RuntimeError(f"verification failed on the generated trail: {report}")
        return [total / report.seconds]

    verify()  # warm-up: page cache
    ours, raw = alternate([verify, lambda: [total / _raw_lower_bound()]], options.repeat)
    return [
        Metric(
            "audit.verify.rate",
            median(ours),
            "events/s",
            median(raw),
            "raw cursor + HMACs",
            "higher",
            Goal("value", "min", 50_000.0),
            samples=len(ours),
            note=f"{total:,} events; best {max(ours):,.0f}/s",
        )
    ]


# (c) sealing ------------------------------------------------------------------------------------


def _insert_pending(count: int, seed: int) -> None:
    generated = _generated_rows(count, 0, chain.GENESIS, seed=seed)
    _insert(((*row[:-2], None, "") for row in generated), _COLUMNS)


def _raw_seal() -> int:
    """The same job as the sealer with one raw SELECT, the MAC checks and one executemany."""
    key, digest, join = settings.AUDIT_KEY, hmac.digest, chain.SEPARATOR.join
    table = AuditEvent._meta.db_table
    columns = ", ".join(["id", "row_mac", *chain.CONTENT_FIELDS])
    with transaction.atomic(), connection.cursor() as cursor:
        seq, previous = _head()
        cursor.execute(f"SELECT {columns} FROM {table} WHERE chain_seq IS NULL ORDER BY id")
        links = []
        for row in cursor.fetchall():
            digest(key, join(map(str, row[2:])).encode(), "sha256")
            seq += 1
            previous = digest(key, f"{previous}|{seq}|{row[1]}".encode(), "sha256").hex()
            links.append((seq, previous, row[0]))
        cursor.executemany(
            f"UPDATE {table} SET chain_seq = %s, chain_mac = %s WHERE id = %s", links
        )
    return len(links)


def sealing_speed(options: Options) -> list[Metric]:
    count = SEAL_EVENTS if options.scale is None else min(SEAL_EVENTS, max(100, options.scale // 5))

    seeds = iter(range(1, 2 * options.repeat + 1))

    def timed(seal: Any) -> list[float]:
        _insert_pending(count, next(seeds))
        started = time.perf_counter()
        sealed = seal()
        seconds = time.perf_counter() - started
        if sealed != count:
            raise RuntimeError(f"sealed {sealed} of {count} events")
        return [count / seconds]

    options.log(f"sealing: {options.repeat} rounds × {count:,} pending events")
    ours, raw = alternate(
        [lambda: timed(seal_pending_events), lambda: timed(_raw_seal)], options.repeat
    )
    report = verify_chain()
    if not report.ok:
        raise RuntimeError(f"the sealed trail does not verify: {report.broken}")
    return [
        Metric(
            "audit.seal.rate",
            median(ours),
            "events/s",
            median(raw),
            "raw SQL sealer",
            "higher",
            samples=len(ours),
            note=f"{count:,} pending events per round",
        )
    ]
