"""Scenario ``patient-record``: opening a patient's record in a region-sized database.

The population is loaded with ``dcc.patients.synth`` (``--scale`` patients: 1,000,000 on
PostgreSQL, 100,000 on SQLite by default). A physician of the synthetic university hospital
(which shares its registered patients), logged in as in ``bench/audit.py`` (session, TOTP
verified, charter accepted), opens ``GET /patients/<uuid>/`` (``patients:record``) for
patients of their hospital through ``django.test.Client``: the whole middleware stack, the
visibility check, the record header, the consultation's audit event, the template.

The baseline is hand-written SQL fetching the same data for the same patients: the visibility
test, the patient row, the care team with its members and their roles, the GP, the
registrations with their structures, recent emergency accesses and merges. It neither renders
nor audits: the gap is what the framework, the page and the trace cost.

The page must issue the same number of SQL statements whatever the patient (checked on
several patients, and reported).
"""

from __future__ import annotations

import functools
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.harness import Goal, Metric, Options, alternate, logged_in_client, median, percentile
from bench.patient_search import _VISIBLE_ROW, _now, _roles, load, raw_visible_ids
from dcc.accounts.models import User
from dcc.audit.services import coalescing_sealer
from dcc.patients.models import Patient

DEFAULT_REQUESTS = 200  # records per variant and round
QUERY_CHECKS = 5


def run(options: Options) -> list[Metric]:
    anchor_dir = Path(tempfile.mkdtemp(prefix="dcc-bench-anchor-"))
    try:
        with override_settings(
            # The production default: events are linked into the chain by the per-process
            # coalescing sealer, off the request (bench/audit.py measures the other modes).
            AUDIT_ANCHOR_FILE=str(anchor_dir / "anchor.json"),
            AUDIT_SEAL_MODE="coalesced",
        ):
            scale = options.scale or {"postgresql": 1_000_000}.get(connection.vendor, 100_000)
            user = load(scale, options.log)
            try:
                return measure(user, options)
            finally:
                if not coalescing_sealer.wait_idle(60):
                    raise RuntimeError("the coalesced seal did not run")
    finally:
        shutil.rmtree(anchor_dir, ignore_errors=True)


def _open(client: Client, uuids: Sequence[str]) -> list[float]:
    """Microseconds per record page."""
    clock = time.perf_counter_ns
    samples = []
    for uuid in uuids:
        url = reverse("patients:record", kwargs={"uuid": uuid})
        started = clock()
        response = client.get(url)
        samples.append((clock() - started) / 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return samples


_STATEMENTS = [
    "SELECT {columns} FROM patients_patient p WHERE p.uuid = %(uuid)s "
    "AND p.merged_into_id IS NULL AND {visible}",
    "SELECT c.id, c.source, c.created_at, u.id, u.first_name, u.last_name, u.rpps, u.email "
    "FROM patients_careteammember c JOIN accounts_user u ON u.id = c.user_id "
    "WHERE c.patient_id = %(pk)s AND c.ended_at IS NULL ORDER BY u.last_name, u.first_name",
    "SELECT m.user_id, m.role, s.name FROM accounts_membership m "
    "JOIN accounts_structure s ON s.id = m.structure_id "
    "WHERE m.revoked_at IS NULL AND s.is_active AND m.user_id IN "
    "(SELECT c.user_id FROM patients_careteammember c "
    "WHERE c.patient_id = %(pk)s AND c.ended_at IS NULL)",
    "SELECT u.id, u.first_name, u.last_name, u.rpps FROM accounts_user u "
    "WHERE u.id = (SELECT general_practitioner_id FROM patients_patient WHERE id = %(pk)s)",
    "SELECT i.value, i.created_at, s.uuid, s.name FROM patients_patientidentifier i "
    "JOIN accounts_structure s ON s.id = i.structure_id WHERE i.patient_id = %(pk)s "
    "ORDER BY s.name",
    "SELECT e.reason, e.created_at, e.expires_at, e.ended_at, u.first_name, u.last_name "
    "FROM patients_emergencyaccess e JOIN accounts_user u ON u.id = e.user_id "
    "WHERE e.patient_id = %(pk)s AND e.created_at >= %(since)s ORDER BY e.created_at DESC",
    "SELECT g.performed_at, g.reason, p.uuid, p.birth_name FROM patients_patientmerge g "
    "JOIN patients_patient p ON p.id = g.merged_id "
    "WHERE g.kept_id = %(pk)s AND g.undone_at IS NULL ORDER BY g.performed_at DESC",
]


def _raw(user: User, patients: Sequence[tuple[str, int]]) -> list[float]:
    """Microseconds per record, fetching the same data with hand-written SQL."""
    roles, role_params = _roles()
    columns = ", ".join(f"p.{f.column}" for f in Patient._meta.concrete_fields)
    statements = [
        sql.format(columns=columns, visible=_VISIBLE_ROW.format(roles=roles)) for sql in _STATEMENTS
    ]
    postgres = connection.vendor == "postgresql"
    clock = time.perf_counter_ns
    samples = []
    with connection.cursor() as cursor:
        for uuid, pk in patients:
            started = clock()
            now = _now()
            params = {
                "user": user.pk,
                "now": now,
                "since": now,
                "uuid": uuid if postgres else uuid.replace("-", ""),
                "pk": pk,
                **role_params,
            }
            for sql in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
            samples.append((clock() - started) / 1000)
    return samples


def measure(user: User, options: Options) -> list[Metric]:
    count = options.requests or DEFAULT_REQUESTS
    ids = raw_visible_ids(user, 50 * count)
    random.Random(7).shuffle(ids)
    rows = dict(Patient.objects.filter(pk__in=ids[:count]).values_list("pk", "uuid"))
    patients = [(str(rows[pk]), pk) for pk in ids[:count] if pk in rows]
    uuids = [uuid for uuid, _ in patients]
    client = logged_in_client(user)
    _open(client, uuids[: max(10, count // 10)])  # warm-up: caches, templates
    _raw(user, patients[: max(10, count // 10)])

    counts = set()
    for uuid in uuids[:QUERY_CHECKS]:
        with CaptureQueriesContext(connection) as captured:
            _open(client, [uuid])
        counts.add(len(captured))
    if len(counts) != 1:
        raise RuntimeError(f"the record page's query count varies with the patient: {counts}")

    options.log(f"record: {options.repeat} rounds × {len(uuids)} records, page and raw SQL")
    page, raw = alternate(
        [functools.partial(_open, client, uuids), functools.partial(_raw, user, patients)],
        options.repeat,
    )
    label = "raw SQL, same data, no page"
    return [
        Metric(
            "patients.record.median",
            median(page),
            "µs",
            median(raw),
            label,
            "lower",
            samples=len(page),
        ),
        Metric(
            "patients.record.p95",
            percentile(page, 0.95),
            "µs",
            percentile(raw, 0.95),
            label,
            "lower",
            Goal("value", "max", 25_000.0),
            samples=len(page),
        ),
        Metric(
            "patients.record.queries",
            counts.pop(),
            "queries",
            len(_STATEMENTS),
            "raw SQL statements",
            "lower",
            note=f"same count for {QUERY_CHECKS} patients; "
            f"{Patient.objects.count():,} patients in the database",
        ),
    ]
