"""Scenario ``patient-record``: opening a patient's record, documents listed, in a region-sized
database.

The population is loaded with ``dcc.patients.synth`` (``--scale`` patients: 1,000,000 on
PostgreSQL, 100,000 on SQLite by default), then ten document versions per patient (10,000,000
at the default PostgreSQL scale, the research note's five-to-ten-year volume) with their blob
rows (``load_documents``). A physician of the synthetic university hospital (which shares its
registered patients), logged in as in ``bench/audit.py`` (session, TOTP verified, charter
accepted), opens ``GET /patients/<uuid>/`` (``patients:record``) for patients of their
hospital through ``django.test.Client``: the whole middleware stack, the visibility check, the
record header, the documents section, the consultation's audit event, the template.

The measured records (``--requests``, default 200) hold exactly 200 documents the physician
may read, as current versions, plus versions the page must skip (replaced, cancelled, very
restricted to others); five more hold 20. Their rows are spread over the whole table, as
documents filed over ten years are, not stored side by side.

The baseline is hand-written SQL fetching the same data for the same patients: the visibility
test, the patient row, the care team with its members and their roles, the GP, the
registrations with their structures, recent emergency accesses and merges, and the latest 300
documents the user may read, with their authors and structures. It neither renders nor
audits: the gap is what the framework, the page and the trace cost.

The page must issue the same number of SQL statements whatever the patient and whatever the
number of documents (checked on records with 200 and with 20 documents, and reported), and its
audit event must say it listed the 200.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.harness import Goal, Metric, Options, alternate, logged_in_client, median, percentile
from bench.patient_search import _VISIBLE_ROW, _now, _roles, load, raw_visible_ids
from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, User
from dcc.audit.choices import Action
from dcc.audit.models import AuditEvent
from dcc.audit.services import coalescing_sealer
from dcc.documents.models import Document, StoredBlob
from dcc.documents.selectors import RECORD_DOCUMENTS
from dcc.interop.terminology import value_sets
from dcc.patients import synth
from dcc.patients.models import CareTeamMember, CaseAccess, EmergencyAccess, Patient

DEFAULT_REQUESTS = 200  # records per variant and round
QUERY_CHECKS = 5
DOCUMENTS_PER_PATIENT = 10
LISTED = 200  # documents listed on each measured record (goal G1)
FEW_LISTED = 20  # on the records that show the statement count does not grow
SKIPPED = 10  # versions on a measured record that its page must not list
ROWS_PER_BATCH = 20_000


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
            count = options.requests or DEFAULT_REQUESTS
            probes, few = pick_records(user, count)
            report = load_documents(
                scale * DOCUMENTS_PER_PATIENT, probes=probes, few=few, log=options.log
            )
            try:
                return measure(user, probes, few, report, options)
            finally:
                if not coalescing_sealer.wait_idle(60):
                    raise RuntimeError("the coalesced seal did not run")
    finally:
        shutil.rmtree(anchor_dir, ignore_errors=True)


def pick_records(user: User, count: int) -> tuple[list[int], list[int]]:
    """Records of the user's hospital: ``count`` to measure, ``QUERY_CHECKS`` with few
    documents."""
    ids = raw_visible_ids(user, 50 * (count + QUERY_CHECKS))
    # Records the user sees as a colleague of the hospital: not those they care for (very
    # restricted documents would be theirs to read), nor those open through a case or an
    # emergency access (read-only footing: restricted documents hidden, one more statement).
    aside = {
        *CareTeamMember.objects.filter(user=user, ended_at__isnull=True).values_list(
            "patient_id", flat=True
        ),
        *Patient.objects.filter(general_practitioner=user).values_list("pk", flat=True),
        *CaseAccess.objects.filter(user=user).values_list("patient_id", flat=True),
        *EmergencyAccess.objects.filter(user=user).values_list("patient_id", flat=True),
    }
    ids = [pk for pk in ids if pk not in aside]
    random.Random(7).shuffle(ids)
    if len(ids) < count + QUERY_CHECKS:
        raise RuntimeError(f"only {len(ids)} visible patients for {count} records to open")
    return ids[:count], ids[count : count + QUERY_CHECKS]


# --- Documents ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentsReport:
    rows: int
    seconds: float
    note: str


_DOCUMENT_COLUMNS = (  # noqa: SIM905
    "id uuid created_at updated_at patient_id set_id version previous_id type_code class_code "
    "title act_date author_id author_label structure_id uploaded_by_id confidentiality "
    "hidden_from_patient blob_id version_reason status cancelled_at cancelled_by_id "
    "cancel_reason"
).split()
_BLOB_COLUMNS = (  # noqa: SIM905
    "id uuid created_at updated_at store key kind mime_type size sha256 file_name segment_size "
    "nonce_prefix key_id wrapped_key flags"
).split()
_EXTERNAL_AUTHORS = (
    "Dr Marie Durand, laboratoire d'anatomopathologie Pasteur",
    "Dr Jean Lefèvre, cabinet de radiologie du Parc",
    "Laboratoire de biologie médicale Cerballiance",
    "Dr Sophie Martin, clinique du Sud",
    "Centre d'imagerie médicale Saint-Jean",
    "Dr Ahmed Benali, oncologue libéral",
    "Plateforme de génétique moléculaire des cancers",
    "Dr Claire Moreau, gastro-entérologue",
)
_TITLE_DETAILS = (
    "",
    " — bilan initial",
    " — suivi",
    " — réévaluation",
    " (relecture)",
    " — intercure",
)


@dataclass(frozen=True)
class _People:
    physicians: list[tuple[int, int]]  # (user, structure)
    secretaries: dict[int, int]  # structure → user


def _people() -> _People:
    """The synthetic region's professionals: physicians author, secretaries file."""
    rows = Membership.objects.active().filter(
        structure__in=synth._synthetic_structures(),
        role__in=[Role.PHYSICIAN, Role.RCP_SECRETARY],
    )
    physicians, secretaries = [], {}
    for user, structure, role in rows.values_list("user_id", "structure_id", "role"):
        if role == Role.PHYSICIAN:
            physicians.append((user, structure))
        else:
            secretaries[structure] = user
    if not physicians or not secretaries:
        raise RuntimeError("load the synthetic population before its documents")
    return _People(sorted(physicians), secretaries)


def _next_id(model: type[Document] | type[StoredBlob]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
        row = cursor.fetchone()
    return int(row[0]) + 1 if row else 1


def document_rows(
    total: int,
    *,
    probes: Sequence[int],
    few: Sequence[int],
    patients: Sequence[int],
    people: _People,
    first_document: int,
    first_blob: int,
    text: bool,
    seed: int = 0,
) -> Iterator[tuple[list[Any], list[Any]]]:
    """``total`` document rows and their blob rows, in batches, in filing order.

    Each patient of ``probes`` gets ``LISTED`` readable current documents and ``SKIPPED`` rows
    its record must not list; each of ``few`` gets ``FEW_LISTED``; the other rows go to the
    other ``patients`` at random (about ten each). The probes' rows are spread evenly over the
    whole table. About 5 % of the documents have a second version (the first one replaced),
    1 % are cancelled, 8 % restricted, 2 % very restricted; 30 % have an external author.

    With ``text``, each row is a line of PostgreSQL's ``COPY`` text format; otherwise a tuple
    of values for ``executemany``."""
    rng = random.Random(seed)
    special: set[int] = {*probes, *few}
    others = [p for p in patients if p not in special]
    # What the record pages list, and what they must skip, placed at evenly spaced slots.
    planned: list[tuple[int, str]] = [(p, "listed") for p in probes for _ in range(LISTED)] + [
        (p, "skipped") for p in probes for _ in range(SKIPPED)
    ]
    planned += [(p, "listed") for p in few for _ in range(FEW_LISTED)]
    rng.shuffle(planned)
    if len(planned) > total // 2:
        raise ValueError(f"{total:,} rows cannot hold {len(planned):,} planned documents")
    spacing = total / (len(planned) + 1)
    next_planned = spacing
    planned_at = 0

    types = [
        (code, concept.display, _class(code))
        for code in value_sets.ONCOLOGY_DOCUMENT_TYPES
        if (concept := value_sets.document_type(code)) is not None
    ]
    now = timezone.now()
    last_day = timezone.localdate().toordinal() - 1
    # Ten years of filing: a document's act date follows its place in the table, give or
    # take ten days.
    days = [dt.date.fromordinal(last_day - 3650 + n).isoformat() for n in range(3651)]
    created: Any
    null: Any
    binary: list[tuple[Any, Any]]
    if text:
        created = now.isoformat()
        null = "\\N"
        binary = [
            ("\\\\x" + rng.randbytes(7).hex(), "\\\\x" + rng.randbytes(60).hex())
            for _ in range(256)
        ]
    else:
        created = connection.ops.adapt_datetimefield_value(now)
        null = None
        binary = [(rng.randbytes(7), rng.randbytes(60)) for _ in range(256)]
    physicians = people.physicians
    secretaries = people.secretaries
    any_secretary = sorted(secretaries.values())
    cancelled_reason = "Document déposé dans le mauvais dossier."
    new_version_reason = "Compte rendu complété après relecture."

    documents: list[Any] = []
    blobs: list[Any] = []
    row = 0
    pending: list[tuple[int, str, int]] = []  # (patient, kind, version) rows still to write
    set_hex = noise = ""
    while row < total:
        if not pending:
            if planned_at < len(planned) and row >= next_planned:
                patient, kind = planned[planned_at]
                planned_at += 1
                next_planned += spacing
            else:
                patient, kind = others[int(rng.random() * len(others))], "any"
            two = kind != "skipped" and rng.random() < 0.05 and row + 1 < total
            pending = (
                [(patient, kind, 2), (patient, "replaced", 1)] if two else [(patient, kind, 1)]
            )
            set_hex = rng.randbytes(16).hex()
        patient, kind, version = pending.pop()
        bits = rng.getrandbits(32)
        at = 112 * (row % ROWS_PER_BATCH)
        if not at:
            noise = rng.randbytes(56 * ROWS_PER_BATCH).hex()
        uuid_hex, blob_hex = noise[at : at + 32], noise[at + 32 : at + 64]
        sha = noise[at + 48 : at + 112]
        code, display, class_code = types[bits % len(types)]
        act_date = days[int(3640 * row / total) + (bits >> 8) % 10]
        author: Any
        author, structure = physicians[(bits >> 4) % len(physicians)]
        uploader = secretaries.get(structure) or any_secretary[0]
        label = ""
        if (bits >> 12) % 10 < 3:  # an external author, not a dcc user
            author = null
            label = _EXTERNAL_AUTHORS[(bits >> 16) % len(_EXTERNAL_AUTHORS)]
        draw = (bits >> 20) % 100
        confidentiality = "N" if draw < 90 else "R" if draw < 98 else "V"
        status = "current"
        cancelled_at: Any = null
        cancelled_by: Any = null
        cancel_reason = ""
        if kind == "listed":
            confidentiality = "R" if confidentiality == "R" else "N"
        elif kind == "replaced":
            status = "replaced"
        elif kind == "skipped" and draw % 2:
            # Very restricted, written and filed by others than the reader (who is not in
            # the probes' care team: ``pick_records``).
            confidentiality = "V"
            author = null
            label = _EXTERNAL_AUTHORS[(bits >> 16) % len(_EXTERNAL_AUTHORS)]
        elif draw % 100 == 1 or kind == "skipped":
            status = "cancelled"
        if status == "cancelled":
            cancelled_at, cancelled_by, cancel_reason = created, uploader, cancelled_reason
        document_id = first_document + row
        blob_id = first_blob + row
        previous: Any = document_id - 1 if version == 2 else null
        title = display + _TITLE_DETAILS[(bits >> 24) % len(_TITLE_DETAILS)]
        reason = new_version_reason if version == 2 else ""
        hidden = (bits >> 28) == 0
        pdf = bits % 10 != 0
        size = 20_000 + (bits >> 6) % 2_000_000
        nonce, wrapped = binary[bits % 256]
        key = (
            f"{blob_hex[:2]}/{blob_hex[2:4]}/{blob_hex[:8]}-{blob_hex[8:12]}-"
            f"{blob_hex[12:16]}-{blob_hex[16:20]}-{blob_hex[20:]}.blob"
        )
        if text:
            documents.append(
                f"{document_id}\t{uuid_hex}\t{created}\t{created}\t{patient}\t{set_hex}\t"
                f"{version}\t{previous}\t{code}\t{class_code}\t{title}\t{act_date}\t{author}\t"
                f"{label}\t{structure}\t{uploader}\t{confidentiality}\t{'t' if hidden else 'f'}\t"
                f"{blob_id}\t{reason}\t{status}\t{cancelled_at}\t{cancelled_by}\t"
                f"{cancel_reason}\n"
            )
            blobs.append(
                f"{blob_id}\t{blob_hex}\t{created}\t{created}\tlocal\t{key}\t"
                f"{'pdf' if pdf else 'cda'}\t{'application/pdf' if pdf else 'text/xml'}\t"
                f"{size}\t{sha}\t{'compte-rendu.pdf' if pdf else 'document.xml'}\t1048576\t"
                f"{nonce}\td1\t{wrapped}\t[]\n"
            )
        else:
            documents.append(
                (
                    document_id,
                    uuid_hex,
                    created,
                    created,
                    patient,
                    set_hex,
                    version,
                    previous,
                    code,
                    class_code,
                    title,
                    act_date,
                    author,
                    label,
                    structure,
                    uploader,
                    confidentiality,
                    hidden,
                    blob_id,
                    reason,
                    status,
                    cancelled_at,
                    cancelled_by,
                    cancel_reason,
                )  # fmt: skip
            )
            blobs.append(
                (
                    blob_id,
                    blob_hex,
                    created,
                    created,
                    "local",
                    key,
                    "pdf" if pdf else "cda",
                    "application/pdf" if pdf else "text/xml",
                    size,
                    sha,
                    "compte-rendu.pdf" if pdf else "document.xml",
                    1 << 20,
                    nonce,
                    "d1",
                    wrapped,
                    "[]",
                )  # fmt: skip
            )
        row += 1
        if len(documents) == ROWS_PER_BATCH or row == total:
            yield documents, blobs
            documents, blobs = [], []
    if planned_at != len(planned):
        raise RuntimeError(f"only {planned_at} of {len(planned)} planned documents were placed")


def _class(code: str) -> str:
    concept = value_sets.document_class_for(code)
    return concept.code if concept is not None else ""


@dataclass(frozen=True)
class _Index:
    table: str
    name: str
    drop: str
    create: str


def _secondary_indexes(tables: Sequence[str]) -> list[_Index]:
    """The indexes and unique constraints of ``tables`` but their primary keys (and any that
    a foreign key depends on), with the statements that drop and re-create them."""
    sql = """
        SELECT t.relname, i.relname, c.conname,
               pg_get_indexdef(x.indexrelid), pg_get_constraintdef(c.oid)
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_class t ON t.oid = x.indrelid
          LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
         WHERE t.relname = ANY(%s) AND NOT x.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                            WHERE f.contype = 'f' AND f.conindid = x.indexrelid)
         ORDER BY t.relname, i.relname
    """
    found = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(tables)])
        for table, index, constraint, index_sql, constraint_sql in cursor.fetchall():
            quoted = connection.ops.quote_name
            if constraint:
                drop = f"ALTER TABLE {quoted(table)} DROP CONSTRAINT {quoted(constraint)}"
                create = f"ALTER TABLE {quoted(table)} ADD CONSTRAINT {quoted(constraint)} {constraint_sql}"
            else:
                drop, create = f"DROP INDEX {quoted(index)}", index_sql
            found.append(_Index(table, index, drop, create))
    return found


def load_documents(
    total: int,
    *,
    probes: Sequence[int],
    few: Sequence[int],
    log: Callable[[str], None],
    seed: int = 0,
) -> DocumentsReport:
    """Bulk-load ``total`` document rows and their blobs (no content file: the record page
    reads rows only). PostgreSQL: ``COPY`` in text format, with the tables' secondary indexes
    dropped during the load and rebuilt after it (foreign-key triggers skipped for a
    superuser, as ``dcc synth`` does), then ``VACUUM ANALYZE``. SQLite: ``executemany``."""
    started = time.perf_counter()
    postgres = connection.vendor == "postgresql"
    tables = [StoredBlob._meta.db_table, Document._meta.db_table]
    people = _people()
    patients = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    log(f"loading {total:,} documents for {len(patients):,} patients")
    indexes: list[_Index] = []
    with transaction.atomic():
        first_document, first_blob = _next_id(Document), _next_id(StoredBlob)
        rows = document_rows(
            total,
            probes=probes,
            few=few,
            patients=patients,
            people=people,
            first_document=first_document,
            first_blob=first_blob,
            text=postgres,
            seed=seed,
        )
        with connection.cursor() as cursor:
            if not postgres:
                # Room for the tables' indexes (uuids and hashes are written in random order).
                cursor.execute("PRAGMA cache_size = -1000000")
            if postgres:
                synth._defer_checks(True)
                indexes = _secondary_indexes(tables)
                for index in indexes:
                    cursor.execute(index.drop)
            written = 0
            for documents, blobs in rows:
                if postgres:
                    for table, columns, lines in (
                        (tables[0], _BLOB_COLUMNS, blobs),
                        (tables[1], _DOCUMENT_COLUMNS, documents),
                    ):
                        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                        with cursor.cursor.copy(sql) as copy:
                            copy.write("".join(lines))
                else:
                    for table, columns, values in (
                        (tables[0], _BLOB_COLUMNS, blobs),
                        (tables[1], _DOCUMENT_COLUMNS, documents),
                    ):
                        marks = ", ".join(["%s"] * len(columns))
                        cursor.executemany(
                            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
                        )
                written += len(documents)
                if written % 1_000_000 < ROWS_PER_BATCH:
                    log(f"{written:,} documents ({time.perf_counter() - started:.0f} s)")
            if postgres:
                loaded = time.perf_counter()
                cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
                for index in indexes:
                    cursor.execute(index.create)
                log(f"{len(indexes)} indexes rebuilt in {time.perf_counter() - loaded:.0f} s")
                synth._defer_checks(False)
                for model in (StoredBlob, Document):
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT MAX(id) FROM {table}))"
                    )
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
        else:
            cursor.execute("PRAGMA cache_size = -2000")  # SQLite's default again
            cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    log(f"{total:,} documents loaded in {seconds:.1f} s")
    return DocumentsReport(total, seconds, _sizes(tables) if postgres else "")


def _sizes(tables: Sequence[str]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_table_size(t::regclass)), sum(pg_indexes_size(t::regclass)) "
            "FROM unnest(%s::text[]) t",
            [list(tables)],
        )
        heap, index = cursor.fetchone() or (0, 0)
    return f"documents and blobs: {int(heap) / 2**30:.1f} GiB of rows, {int(index) / 2**30:.1f} GiB of indexes"


# --- The page and its baseline --------------------------------------------------------------


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
    # The documents section: the latest current versions the user may read (normal and
    # restricted ones; very restricted ones only when close to the patient or the document).
    "SELECT d.uuid, d.title, d.type_code, d.act_date, d.version, d.status, "
    "d.confidentiality, d.author_label, d.author_id, d.structure_id, u.first_name, "
    "u.last_name, s.name FROM documents_document d "
    "LEFT JOIN accounts_user u ON u.id = d.author_id "
    "LEFT JOIN accounts_structure s ON s.id = d.structure_id "
    "WHERE d.patient_id = %(pk)s AND d.status = 'current' AND ("
    "d.confidentiality IN ('N', 'R') OR (d.confidentiality = 'V' AND ("
    "d.uploaded_by_id = %(user)s OR d.author_id = %(user)s "
    "OR EXISTS (SELECT 1 FROM patients_patient g WHERE g.id = d.patient_id "
    "AND g.general_practitioner_id = %(user)s) "
    "OR EXISTS (SELECT 1 FROM patients_careteammember c WHERE c.patient_id = d.patient_id "
    "AND c.user_id = %(user)s AND c.ended_at IS NULL)))) "
    f"ORDER BY d.act_date DESC, d.id DESC LIMIT {RECORD_DOCUMENTS}",
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


def _raw_documents(user: User, pk: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_STATEMENTS[-1], {"user": user.pk, "pk": pk})
        return len(cursor.fetchall())


def _statements(client: Client, uuids: Sequence[str]) -> set[int]:
    """Statements per page, but the session's last-seen time, written once a minute whatever
    the page (``accounts.middleware.SEEN_RESOLUTION``)."""
    counts = set()
    for uuid in uuids:
        with CaptureQueriesContext(connection) as captured:
            _open(client, [uuid])
        counts.add(sum(1 for q in captured if not _SESSION_SAVE.match(q["sql"])))
    return counts


_SESSION_SAVE = re.compile(r'\s*UPDATE "django_session"')


def _listed(uuid: str) -> int:
    """How many documents the page's last ``patient.viewed`` event of ``uuid`` says it listed."""
    event = (
        AuditEvent.objects.filter(action=Action.PATIENT_VIEWED, resource_id=uuid)
        .order_by("-id")
        .first()
    )
    details = json.loads(event.details) if event is not None and event.details else {}
    return int(details.get("documents_listed", -1))


def _uuids(ids: Sequence[int]) -> list[tuple[str, int]]:
    rows = dict(Patient.objects.filter(pk__in=ids).values_list("pk", "uuid"))
    return [(str(rows[pk]), pk) for pk in ids]


def measure(
    user: User,
    probes: Sequence[int],
    few: Sequence[int],
    documents: DocumentsReport,
    options: Options,
) -> list[Metric]:
    patients = _uuids(probes)
    uuids = [uuid for uuid, _ in patients]
    few_patients = _uuids(few)
    few_uuids = [uuid for uuid, _ in few_patients]
    count = len(uuids)
    client = logged_in_client(user)
    _open(client, uuids[: max(10, count // 10)])  # warm-up: caches, templates
    _raw(user, patients[: max(10, count // 10)])

    for uuid, pk in patients[:QUERY_CHECKS]:
        found = _raw_documents(user, pk)
        if found != LISTED or _listed(uuid) != LISTED:
            raise RuntimeError(f"a measured record lists {_listed(uuid)} documents (raw: {found})")
    for uuid, pk in few_patients:
        _open(client, [uuid])
        if _raw_documents(user, pk) != FEW_LISTED or _listed(uuid) != FEW_LISTED:
            raise RuntimeError(f"a record of {FEW_LISTED} documents lists {_listed(uuid)}")
    many = _statements(client, uuids[:QUERY_CHECKS])
    some = _statements(client, few_uuids)
    if len(many | some) != 1:
        raise RuntimeError(
            f"the record page's statement count varies: {sorted(many)} with {LISTED} "
            f"documents, {sorted(some)} with {FEW_LISTED}"
        )

    options.log(
        f"record: {options.repeat} rounds × {count} records of {LISTED} documents (page, "
        f"raw SQL) and {len(few_uuids)} × {count // len(few_uuids)} of {FEW_LISTED} (page)"
    )
    repeated_few = (few_uuids * (count // len(few_uuids) + 1))[:count]
    page, raw, page_few = alternate(
        [
            functools.partial(_open, client, uuids),
            functools.partial(_raw, user, patients),
            functools.partial(_open, client, repeated_few),
        ],
        options.repeat,
    )
    label = "raw SQL, same data, no page"
    rows = f"{Patient.objects.count():,} patients, {Document.objects.count():,} document rows"
    return [
        Metric(
            "patients.record.median",
            median(page),
            "µs",
            median(raw),
            label,
            "lower",
            samples=len(page),
            note=f"{LISTED} documents listed per record",
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
            note=f"{LISTED} documents listed per record; p99 {percentile(page, 0.99):,.0f} µs",
        ),
        Metric(
            "patients.record.few_documents.p95",
            percentile(page_few, 0.95),
            "µs",
            percentile(page, 0.95),
            f"page with {LISTED} documents",
            "lower",
            samples=len(page_few),
            note=f"{FEW_LISTED} documents listed; median {median(page_few):,.0f} µs",
        ),
        Metric(
            "patients.record.queries",
            many.pop(),
            "queries",
            len(_STATEMENTS),
            "raw SQL statements",
            "lower",
            Goal("value", "max", 8.0),
            note=f"same count for {QUERY_CHECKS} records of {LISTED} documents and "
            f"{len(few_uuids)} of {FEW_LISTED} (and the session's last-seen time, once a "
            f"minute); {rows}; documents loaded in "
            f"{documents.seconds:,.0f} s" + (f" ({documents.note})" if documents.note else ""),
        ),
    ]
