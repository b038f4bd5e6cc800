"""Scenario ``patient-search``: finding a patient among a region's, as a hospital physician.

The population is loaded with ``dcc.patients.synth`` (``--scale`` patients: 1,000,000 on
PostgreSQL, 100,000 on SQLite by default). The user is a physician of the synthetic university
hospital, which shares its registered patients (about a tenth of the region) and where the
physician is in the care team of some more; they also hold an RCP case access and an
emergency access, so that every visibility arm has rows.

Each query runs through ``search_patients`` and through hand-written SQL that applies the same
visibility for the same user and returns the same rows (checked once before timing), in
alternated rounds:

- INS: the matricule of a visible patient, or of one the user may not see (found nothing);
- name prefix: 3 to 8 letters of a visible patient's birth or used name, typed as people type
  it (lower case, accents dropped), half of the time with the birth date;
- IPP: a visible patient's hospital number;
- the worst case of the name search, without a goal: the short prefixes typed by a physician
  of a structure that does not share its patients (who sees only a few hundred): the index walk
  in name order finds few visible rows and reads every match before it can stop.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.harness import Goal, Metric, Options, alternate, median, percentile
from dcc.accounts.choices import Role
from dcc.accounts.models import User
from dcc.patients import synth
from dcc.patients.choices import CaseAccessSource
from dcc.patients.models import CaseAccess, EmergencyAccess, Patient, PatientIdentifier
from dcc.patients.permissions import REGISTERING_ROLES
from dcc.patients.search import SEARCH_LIMIT, search_patients

DEFAULT_SCALE = {"sqlite": 100_000, "postgresql": 1_000_000}
QUERIES = 200  # per kind and round
FEW_QUERIES = 20  # broad prefixes typed by a user who sees few patients, per round


@dataclass(frozen=True)
class Query:
    text: str
    birth_date: dt.date | None = None


def run(options: Options) -> list[Metric]:
    # The loader's summary event is sealed: into a temporary anchor, never the real one.
    anchor_dir = Path(tempfile.mkdtemp(prefix="dcc-bench-anchor-"))
    try:
        with override_settings(
            AUDIT_ANCHOR_FILE=str(anchor_dir / "anchor.json"), AUDIT_SEAL_MODE="on_commit"
        ):
            scale = options.scale or DEFAULT_SCALE.get(connection.vendor, 100_000)
            user = load(scale, options.log)
            queries = sample_queries(user, options.scale is not None and scale < 10_000)
            for kind, batch in queries.items():
                check_same_rows(user, batch, kind)
            few = few_seeing_user()
            broad = [q for q in queries["name"] if _short(q)][:FEW_QUERIES]
            if few is not None:
                check_same_rows(few, broad, "name (few visible)")
            return measure(user, queries, options) + measure_few(few, broad, options)
    finally:
        shutil.rmtree(anchor_dir, ignore_errors=True)


def load(scale: int, log: Callable[[str], None]) -> User:
    """The synthetic region, and the physician whose searches are measured."""
    log(f"loading {scale:,} synthetic patients")
    report = synth.load_population(scale, seed=0, force=True, log=log)
    log(f"loaded in {report.seconds:.1f} s")
    user = report.physicians[0]
    now = timezone.now()
    outside = Patient.objects.exclude(
        pk__in=PatientIdentifier.objects.filter(structure=report.structures[0]).values("patient_id")
    ).order_by("pk")
    case, emergency = list(outside.values_list("pk", flat=True)[:2])
    CaseAccess.objects.create(
        patient_id=case,
        user=user,
        source=CaseAccessSource.RCP_MEETING,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=30),
    )
    EmergencyAccess.objects.create(
        patient_id=emergency, user=user, reason="Banc d'essai", expires_at=now + dt.timedelta(1)
    )
    return user


def few_seeing_user() -> User | None:
    """A physician of a structure that does not share its patients: they see only their care
    team's (a few hundred), so a broad prefix's index walk finds few visible rows and reads
    every match before it can stop (the worst case of the name search)."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__role=Role.PHYSICIAN,
            memberships__revoked_at__isnull=True,
            memberships__structure__shares_registered_patients=False,
        )
        .exclude(memberships__structure__shares_registered_patients=True)
        .order_by("pk")
        .first()
    )


def _typed(key_source: str, rng: random.Random) -> str:
    """How a person types the start of a name: lower case, often without the accents."""
    text = key_source.lower()
    if rng.random() < 0.7:
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return text


def sample_queries(user: User, tiny: bool) -> dict[str, list[Query]]:
    rng = random.Random(42)
    visible = list(
        Patient.objects.filter(
            pk__in=raw_visible_ids(user, limit=20 * QUERIES if not tiny else 400)
        ).values_list("birth_name", "used_name", "birth_date", "ins_matricule", "pk")
    )
    rng.shuffle(visible)
    hidden = raw_hidden_matricules(user, QUERIES * 5)
    with_ins = [row[3] for row in visible if row[3]]
    ins_queries = [Query(m) for m in with_ins[: QUERIES // 2]] + [
        Query(m) for m in rng.sample(hidden, min(len(hidden), QUERIES // 2))
    ]
    names = []
    for birth_name, used_name, birth_date, _, _ in visible[:QUERIES]:
        name = used_name if used_name and rng.random() < 0.3 else birth_name
        length = rng.choice((3, 4, 4, 5, 5, 6, 8, len(name)))
        names.append(Query(_typed(name[:length], rng), birth_date if rng.random() < 0.5 else None))
    ipps = list(
        PatientIdentifier.objects.filter(patient_id__in=[row[4] for row in visible[:QUERIES]])
        .exclude(value="")
        .values_list("value", flat=True)
    )
    return {
        "ins": ins_queries,
        "name": names,
        "ipp": [Query(value) for value in ipps[:QUERIES]],
    }


# The same visibility as dcc.patients.selectors, by hand ------------------------------------------

_VISIBLE = """
    SELECT c.patient_id FROM patients_careteammember c
     WHERE c.user_id = %(user)s AND c.ended_at IS NULL
    UNION ALL
    SELECT g.id FROM patients_patient g WHERE g.general_practitioner_id = %(user)s
    UNION ALL
    SELECT i.patient_id FROM patients_patientidentifier i
      JOIN patients_patient o ON o.id = i.patient_id AND NOT o.objects_to_sharing
     WHERE i.structure_id IN (
        SELECT m.structure_id FROM accounts_membership m
          JOIN accounts_structure s ON s.id = m.structure_id
         WHERE m.user_id = %(user)s AND m.revoked_at IS NULL AND s.is_active
           AND s.shares_registered_patients AND m.role IN ({roles}))
    UNION ALL
    SELECT a.patient_id FROM patients_caseaccess a
     WHERE a.user_id = %(user)s AND a.revoked_at IS NULL
       AND a.starts_at <= %(now)s AND a.ends_at > %(now)s
    UNION ALL
    SELECT e.patient_id FROM patients_emergencyaccess e
     WHERE e.user_id = %(user)s AND e.ended_at IS NULL AND e.expires_at > %(now)s
"""


# The same test row by row, as search_patients applies it to each candidate.
_VISIBLE_ROW = """(
    p.general_practitioner_id = %(user)s
    OR EXISTS (SELECT 1 FROM patients_careteammember c
                WHERE c.patient_id = p.id AND c.user_id = %(user)s AND c.ended_at IS NULL)
    OR (NOT p.objects_to_sharing AND EXISTS (
        SELECT 1 FROM patients_patientidentifier i
         WHERE i.patient_id = p.id AND i.structure_id IN (
            SELECT m.structure_id FROM accounts_membership m
              JOIN accounts_structure s ON s.id = m.structure_id
             WHERE m.user_id = %(user)s AND m.revoked_at IS NULL AND s.is_active
               AND s.shares_registered_patients AND m.role IN ({roles}))))
    OR EXISTS (SELECT 1 FROM patients_caseaccess a
                WHERE a.patient_id = p.id AND a.user_id = %(user)s AND a.revoked_at IS NULL
                  AND a.starts_at <= %(now)s AND a.ends_at > %(now)s)
    OR EXISTS (SELECT 1 FROM patients_emergencyaccess e
                WHERE e.patient_id = p.id AND e.user_id = %(user)s AND e.ended_at IS NULL
                  AND e.expires_at > %(now)s))"""


def _roles() -> tuple[str, dict[str, str]]:
    names = {f"role{i}": str(role) for i, role in enumerate(sorted(REGISTERING_ROLES))}
    return ", ".join(f"%({name})s" for name in names), names


def _now() -> Any:
    now = timezone.now()
    if connection.vendor == "sqlite":
        return connection.ops.adapt_datetimefield_value(now)
    return now


def raw_visible_ids(user: User, limit: int) -> list[int]:
    roles, params = _roles()
    sql = (
        f"SELECT DISTINCT v.patient_id FROM ({_VISIBLE.format(roles=roles)}) v "
        f"ORDER BY 1 LIMIT {int(limit)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user.pk, "now": _now(), **params})
        return [row[0] for row in cursor.fetchall()]


def raw_hidden_matricules(user: User, limit: int) -> list[str]:
    """INS of patients the user may not see: a search for them must find nothing."""
    roles, params = _roles()
    sql = (
        "SELECT p.ins_matricule FROM patients_patient p WHERE p.ins_matricule <> '' "
        f"AND p.id NOT IN ({_VISIBLE.format(roles=roles)}) ORDER BY p.id LIMIT {int(limit)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user.pk, "now": _now(), **params})
        return [row[0] for row in cursor.fetchall()]


_COLUMNS = ", ".join(f"p.{f.column}" for f in Patient._meta.concrete_fields)


def raw_search(user: User, query: Query) -> list[tuple[Any, ...]]:
    """The same search, written by hand: the same rows, ordered the same way.

    Exact matches (IPP, INS) first, then by the matched name key (the smaller of the birth and
    used name keys that start with the typed key), first name key, id. On PostgreSQL each name
    arm walks the "C"-collated key index in that order, testing visibility row by row, and stops
    after a page (the early stop of ``dcc.patients.search``); SQLite, and both databases for an
    INS or IPP alone, filter and sort every match."""
    from dcc.patients import ins, matching

    roles, params = _roles()
    postgres = connection.vendor == "postgresql"
    values: dict[str, Any] = {"user": user.pk, "now": _now(), "text": query.text, **params}
    dated = ""
    if query.birth_date is not None:
        values["born"] = query.birth_date if postgres else str(query.birth_date)
        dated = " AND q.birth_date = %(born)s"
    matricule = ins.normalise_matricule(query.text)
    key = matching.name_key(query.text)
    collate = ' COLLATE "C"' if postgres else ""

    def starts(column: str) -> str:
        if postgres:
            return f"{column}{collate} LIKE %(like)s"
        return f"{column} >= %(low)s AND {column} < %(high)s"

    if key:
        values["like"] = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        values["low"], values["high"] = key, key[:-1] + chr(ord(key[-1]) + 1)
    # Visible, tested on the candidate row (SQLite: in the outer query).
    seen = (
        " AND EXISTS (SELECT 1 FROM patients_patient p WHERE p.id = q.id"
        f" AND p.merged_into_id IS NULL AND {_VISIBLE_ROW.format(roles=roles)})"
        if postgres and key
        else ""
    )
    arms = [
        "SELECT q.id FROM patients_patient q WHERE q.id IN "
        f"(SELECT i.patient_id FROM patients_patientidentifier i WHERE i.value = %(text)s)"
        f"{dated}{seen}"
    ]
    if len(matricule) == 15:
        values["ins"] = matricule
        arms.append(
            "SELECT q.id FROM patients_patient q WHERE q.ins_matricule = %(ins)s "
            f"AND NOT (q.ins_matricule = '') AND q.merged_into_id IS NULL{dated}{seen}"
        )
    if key:
        for column in ("q.birth_name_key", "q.used_name_key"):
            arm = f"SELECT q.id FROM patients_patient q WHERE {starts(column)}{dated}{seen}"
            if postgres:
                arm = (
                    f"({arm} ORDER BY {column}{collate}, q.first_name_key{collate}, q.id "
                    f"LIMIT {SEARCH_LIMIT})"
                )
            arms.append(arm)
    if key:
        exact = "EXISTS (SELECT 1 FROM patients_patientidentifier x WHERE x.patient_id = p.id AND x.value = %(text)s)"
        if len(matricule) == 15:
            exact += " OR p.ins_matricule = %(ins)s"
        birth, used = f"p.birth_name_key{collate}", f"p.used_name_key{collate}"
        b_starts, u_starts = starts("p.birth_name_key"), starts("p.used_name_key")
        order = (
            f"CASE WHEN {exact} THEN 0 ELSE 1 END, "
            f"CASE WHEN {u_starts} AND NOT ({b_starts}) THEN {used} "
            f"WHEN {u_starts} AND {b_starts} AND {used} < {birth} THEN {used} "
            f"ELSE {birth} END"
        )
    else:
        order = f"p.birth_name_key{collate}"
    if postgres and key:
        where = ""
    else:
        where = f"p.merged_into_id IS NULL AND {_VISIBLE_ROW.format(roles=roles)} AND " + (
            "p.birth_date = %(born)s AND " if query.birth_date is not None else ""
        )
    sql = (
        f"SELECT {_COLUMNS} FROM patients_patient p "
        f"WHERE {where}p.id IN ({' UNION ALL '.join(arms)}) "
        f"ORDER BY {order}, p.first_name_key{collate}, p.id LIMIT {SEARCH_LIMIT}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return list(cursor.fetchall())


def check_same_rows(user: User, queries: Sequence[Query], kind: str) -> None:
    for query in queries:
        ours = [p.pk for p in search_patients(user, text=query.text, birth_date=query.birth_date)]
        theirs = [row[0] for row in raw_search(user, query)]
        if ours != theirs:
            raise RuntimeError(f"{kind} search {query} differs from the raw SQL")


def _timed(call: Callable[[Query], Any], queries: Sequence[Query]) -> list[float]:
    """Microseconds per search, run in a shuffled order, returned in the order given."""
    order = list(range(len(queries)))
    random.Random(len(order)).shuffle(order)
    clock = time.perf_counter_ns
    samples = [0.0] * len(queries)
    for index in order:
        started = clock()
        call(queries[index])
        samples[index] = (clock() - started) / 1000
    return samples


def _short(query: Query) -> bool:
    """Three or four letters and no birth date: thousands of candidates at regional scale."""
    from dcc.patients import matching

    return query.birth_date is None and len(matching.name_key(query.text)) < 5


def measure(user: User, queries: dict[str, list[Query]], options: Options) -> list[Metric]:
    def ours(query: Query) -> list[Patient]:
        return search_patients(user, text=query.text, birth_date=query.birth_date)

    def raw(query: Query) -> list[tuple[Any, ...]]:
        return raw_search(user, query)

    metrics: list[Metric] = []
    for kind, batch in queries.items():
        _timed(ours, batch)  # warm-up: page cache, plans
        _timed(raw, batch)
        options.log(f"{kind}: {options.repeat} rounds × {len(batch)} searches each")
        mine, theirs = alternate(
            [functools.partial(_timed, ours, batch), functools.partial(_timed, raw, batch)],
            options.repeat,
        )
        label = "raw SQL, same visibility"
        goal = {"ins": Goal("value", "max", 5000.0), "name": Goal("value", "max", 20000.0)}
        metrics += [
            Metric(
                f"patients.search.{kind}.median",
                median(mine),
                "µs",
                median(theirs),
                label,
                "lower",
                samples=len(mine),
            ),
            Metric(
                f"patients.search.{kind}.p95",
                percentile(mine, 0.95),
                "µs",
                percentile(theirs, 0.95),
                label,
                "lower",
                goal.get(kind),
                samples=len(mine),
            ),
        ]
        if kind == "name":
            per_round = len(batch)
            for label_kind, wanted in (("name_short", True), ("name_long", False)):
                picked = [i for i, q in enumerate(batch) if _short(q) is wanted]
                a = [mine[r * per_round + i] for r in range(options.repeat) for i in picked]
                b = [theirs[r * per_round + i] for r in range(options.repeat) for i in picked]
                if a:
                    metrics.append(
                        Metric(
                            f"patients.search.{label_kind}.p95",
                            percentile(a, 0.95),
                            "µs",
                            percentile(b, 0.95),
                            label,
                            "lower",
                            samples=len(a),
                            note="3–4 letters, no birth date"
                            if wanted
                            else "5 letters or more, or with the birth date",
                        )
                    )
            metrics.append(
                Metric(
                    "patients.search.name.p95_vs_raw",
                    percentile(mine, 0.95),
                    "µs",
                    percentile(theirs, 0.95),
                    label,
                    "lower",
                    Goal("ratio", "max", 2.0),
                    samples=len(mine),
                )
            )
    with CaptureQueriesContext(connection) as captured:
        ours(queries["name"][0])
    metrics.append(
        Metric(
            "patients.search.queries",
            len(captured),
            "queries",
            1,
            "one statement",
            "lower",
            Goal("value", "max", 1.0),
            note=f"{Patient.objects.count():,} patients",
        )
    )
    return metrics


def measure_few(user: User | None, queries: Sequence[Query], options: Options) -> list[Metric]:
    """The worst case, reported without a goal: broad prefixes by a user who sees few."""
    if user is None or not queries:
        return []

    def ours(query: Query) -> list[Patient]:
        return search_patients(user, text=query.text, birth_date=query.birth_date)

    def raw(query: Query) -> list[tuple[Any, ...]]:
        return raw_search(user, query)

    _timed(ours, queries)
    _timed(raw, queries)
    options.log(f"name, few visible: {options.repeat} rounds × {len(queries)} searches each")
    mine, theirs = alternate(
        [functools.partial(_timed, ours, queries), functools.partial(_timed, raw, queries)],
        options.repeat,
    )
    seen = len(raw_visible_ids(user, limit=1_000_000))
    return [
        Metric(
            "patients.search.name_few_visible.p95",
            percentile(mine, 0.95),
            "µs",
            percentile(theirs, 0.95),
            "raw SQL, same visibility",
            "lower",
            samples=len(mine),
            note=f"3–4 letters, no birth date, by a user who sees {seen:,} patients",
        )
    ]
