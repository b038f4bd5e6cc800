"""Scenario ``document-upload``: adding a scanned report to a patient's record, from 1 MiB to
1 GiB, against writing the same bytes to the same disk.

**dcc.** A physician of the patient's care team (logged in as in ``bench/audit.py``: session,
TOTP verified, charter accepted) posts the documents add form (``documents:add``) as a browser
does: ``multipart/form-data`` with the metadata fields and a PDF (a scanned report: one
incompressible image stream per MiB, as a scanner's JPEG pages are). The request goes through
the whole middleware stack, Django's multipart parser and ``DocumentUploadHandler``: each chunk
is inspected, hashed (SHA-256), encrypted (AES-256-GCM segments) and written; then the blob is
made durable (fsync, link, directory fsync), one transaction writes the blob row, the document
row, the audit event and the care team's notification, and the blob is put in its place. A
sample is the time from the first byte of the request to the redirect that answers it.

Why ``django.test.Client`` with a streamed ``wsgi.input``, not its usual ``post`` nor a real
server: ``Client.post`` encodes the whole body in memory before calling the application, which
would hide (and at 1 GiB, swamp) the server's own memory use; a server over loopback would add
a second process competing for the machine's two cores and the socket copies, which the
physical baseline does not pay either. Here the request body is generated while the server
reads it, from a fixed pool of random bytes, so the process's memory is the server's, and the
WSGI path (``WSGIRequest``, ``LimitedStream``, the parser, the handler) is the one gunicorn
drives. The client's only work, copying the body out of the pool, is paid by the baselines too.

**Baselines, same bytes, same directory, same run, alternated:**

- *raw write*: the PDF's bytes written with 1 MiB ``os.write`` calls to a new file, then
  ``fsync`` (what ``dd conv=fsync`` measures). The issue's goal is the large upload's
  sustained throughput ≥ 0.40 of it. For smaller files, the raw write of a few MiB ends in
  the disk's cache, faster than the disk sustains: their throughput is reported beside it,
  and compared (``.vs_disk``, ≥ 0.40) with the large raw write, the disk's sustained write
  that G11 names ("cold-disk write", 1 GiB files in performance.md section 4.1). G11's own
  targets are 150 MB/s at 5 MiB and 100 uploads/s at 1 MiB;
- *raw pipeline* (reported, no goal): the same plus SHA-256 and AES-256-GCM over 1 MiB segments,
  the least any encrypted, hashed store must do.

**Memory.** For the large upload (``--scale`` MiB, default 1,024), the peak resident set size is
reset (``/proc/self/clear_refs``) just before the request and read (``VmHWM``) after it: the
growth over the resident size before the request is what the upload cost in memory. An extra,
untimed upload of the same size and of the size limit runs under ``tracemalloc`` for the peak
of Python allocations. Both must stay far below the file size and the same whatever its size:
goals ≤ 16 MiB of RSS growth and ≤ 8 MiB of Python allocations (a few 1 MiB segments and
256 KiB chunks in flight, see ``dcc.documents.content``).

A last, informative metric is SHA-256 plus AES-256-GCM over the large upload's bytes in
memory, on one core: the CPU bound of the cryptography alone.

``--requests`` is the number of 1 MiB uploads per round (default 100; of 5 MiB, a fifth of
that; of 20 MiB, a twentieth; at the size limit, ``DCC_DOCUMENT_MAX_BYTES``, a thirty-second;
at least one each, sizes above the limit left out); the large upload runs once per round. The
last upload of each size is decrypted and checked against its hash once (untimed); blobs and
raw files are removed (untimed) after each variant's round.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from bench.harness import (
    Goal,
    Metric,
    Options,
    alternate,
    bench_physician,
    logged_in_client,
    median,
)
from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, User
from dcc.audit.services import coalescing_sealer
from dcc.documents import content, crypto
from dcc.documents.models import Document
from dcc.patients import services as patient_services
from dcc.patients.choices import IdentityStatus
from dcc.patients.models import Patient

MIB = 1 << 20
MB = 1_000_000
DEFAULT_REQUESTS = 100  # 1 MiB uploads per round
DEFAULT_LARGE_MIB = 1024
# Memory goals of the large upload: a few segments and chunks, whatever the file's size.
RSS_GROWTH_MIB = 16.0
PYTHON_PEAK_MIB = 8.0
WRITE_SIZE = MIB  # the raw baselines' write size (dd bs=1M)
POOL_BYTES = 16 * MIB  # random bytes the PDFs' image streams are cut from
IMAGE_BYTES = MIB  # one scanned page
READ_SIZE = 256 * 1024  # what a WSGI server hands the application per read, at most
BOUNDARY = "----dccBenchBoundary7MA4YWxkTrZu0gW"


# --- The uploaded PDF -----------------------------------------------------------------------


@functools.cache
def _pool() -> bytes:
    return os.urandom(POOL_BYTES)


Piece = bytes | tuple[int, int]  # literal bytes, or (offset, length) in the random pool


def pdf_pieces(size: int, tag: int) -> list[Piece]:
    """A PDF of exactly ``size`` bytes (at least a few KiB): a scanned report of one
    incompressible image stream per MiB (``/DCTDecode`` pages, as a scanner writes), with a
    valid cross-reference table. ``tag`` makes each content unique (the record refuses a file
    it already holds)."""
    pages = max(1, size // IMAGE_BYTES)
    lengths = [IMAGE_BYTES] * pages
    for _ in range(3):  # the /Length digits change the size: converge
        pieces = _pdf_layout(lengths, tag)
        total = sum(len(p) if isinstance(p, bytes) else p[1] for p in pieces)
        lengths[-1] += size - total
        if lengths[-1] < 1:
            raise ValueError(f"a PDF of {size} bytes is too small")
    pieces = _pdf_layout(lengths, tag)
    total = sum(len(p) if isinstance(p, bytes) else p[1] for p in pieces)
    if total != size:
        raise RuntimeError(f"PDF of {total} bytes instead of {size}")
    return pieces


def _pdf_layout(lengths: Sequence[int], tag: int) -> list[Piece]:
    pages = len(lengths)
    pieces: list[Piece] = []
    offsets: list[int] = []
    position = 0

    def add(piece: Piece) -> None:
        nonlocal position
        pieces.append(piece)
        position += len(piece) if isinstance(piece, bytes) else piece[1]

    def obj(number: int, body: bytes) -> None:
        offsets.append(position)
        add(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    add(b"%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n%% dcc bench scan %d\n" % tag)
    kids = b" ".join(b"%d 0 R" % (3 + 3 * k) for k in range(pages))
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages))
    pool = len(_pool())
    for k, length in enumerate(lengths):
        page, contents, image = 3 + 3 * k, 4 + 3 * k, 5 + 3 * k
        obj(
            page,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /XObject << /Im0 %d 0 R >> >> >>" % (contents, image),
        )
        drawing = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
        obj(contents, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(drawing), drawing))
        offsets.append(position)
        add(
            b"%d 0 obj\n<< /Type /XObject /Subtype /Image /Width 2480 /Height 3508 "
            b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\n"
            b"stream\n" % (image, length)
        )
        start = (tag * 7_919 + k * 104_729) % (pool - length) if length < pool else 0
        remaining = length
        while remaining:  # a page larger than the pool (the last one's remainder) wraps
            take = min(remaining, pool - start)
            add((start, take))
            remaining -= take
            start = 0
        add(b"\nendstream\nendobj\n")
    xref = position
    count = len(offsets) + 1
    table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    add(b"xref\n0 %d\n0000000000 65535 f \n" % count + table)
    add(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref))
    return pieces


class PieceStream:
    """A file-like ``read`` over pieces, produced as it is read (the pool is never copied
    whole): what a WSGI server's ``wsgi.input`` is to the application."""

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self._pool = memoryview(_pool())
        self._pieces = [
            p if isinstance(p, bytes) else self._pool[p[0] : p[0] + p[1]] for p in pieces
        ]
        self._index = 0
        self._offset = 0
        self.size = sum(len(p) for p in self._pieces)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.size
        parts: list[bytes | memoryview] = []
        wanted = size
        while wanted and self._index < len(self._pieces):
            piece = self._pieces[self._index]
            available = len(piece) - self._offset
            take = min(available, wanted)
            parts.append(piece[self._offset : self._offset + take])
            wanted -= take
            self._offset += take
            if self._offset == len(piece):
                self._index += 1
                self._offset = 0
        if len(parts) == 1:
            return bytes(parts[0])
        return b"".join(parts)

    def readline(self, size: int = -1) -> bytes:  # part of the WSGI input contract
        raise NotImplementedError("the multipart parser reads by size")

    def chunks(self, size: int) -> Iterator[bytes]:
        while chunk := self.read(size):
            yield chunk


# --- The request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    client: Client
    user: User
    patient: Patient
    url: str


def _field(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def request_pieces(setting: Setting, pdf: Sequence[Piece], tag: int) -> list[Piece]:
    head = b"".join(
        [
            _field("type_code", "60568-3"),
            _field("title", f"Compte rendu numérisé {tag}"),
            _field("act_date", dt.date(2025, 3, 14).isoformat()),
            _field("author", str(setting.user.pk)),
            _field("author_label", ""),
            _field("confidentiality", "N"),
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="scan-{tag}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode(),
        ]
    )
    return [head, *pdf, f"\r\n--{BOUNDARY}--\r\n".encode()]


def upload(setting: Setting, size: int, tag: int) -> float:
    """Seconds to post one PDF of ``size`` bytes and get the redirect to the new document."""
    body = PieceStream(request_pieces(setting, pdf_pieces(size, tag), tag))
    clock = time.perf_counter
    started = clock()
    environ: dict[str, Any] = {
        "wsgi.input": body,
        "CONTENT_LENGTH": str(body.size),
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
    }
    response = setting.client.generic("POST", setting.url, **environ)
    seconds = clock() - started
    if response.status_code != 302:
        raise RuntimeError(f"upload of {size:,} bytes answered {response.status_code}")
    return seconds


def raw_write(directory: Path, size: int, tag: int, *, pipeline: bool = False) -> float:
    """Seconds to write the same PDF's bytes to a new file and fsync it; with ``pipeline``,
    hashing and encrypting them in 1 MiB segments on the way."""
    body = PieceStream(pdf_pieces(size, tag))
    path = directory / f"raw-{tag}.bin"
    clock = time.perf_counter
    started = clock()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        if pipeline:
            digest = hashlib.sha256()
            aead = AESGCM(os.urandom(32))
            prefix = os.urandom(7)
            for index, chunk in enumerate(body.chunks(WRITE_SIZE)):
                digest.update(chunk)
                sealed = aead.encrypt(prefix + index.to_bytes(5, "big"), chunk, None)
                os.write(descriptor, sealed)
            digest.hexdigest()
        else:
            for chunk in body.chunks(WRITE_SIZE):
                os.write(descriptor, chunk)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return clock() - started


def crypto_only(size: int, tag: int) -> float:
    """Seconds to hash and encrypt the same bytes in memory (the CPU bound, for the note)."""
    body = PieceStream(pdf_pieces(size, tag))
    aead = AESGCM(os.urandom(32))
    digest = hashlib.sha256()
    started = time.perf_counter()
    for index, chunk in enumerate(body.chunks(crypto.DEFAULT_SEGMENT_SIZE)):
        digest.update(chunk)
        aead.encrypt(os.urandom(7) + index.to_bytes(5, "big"), chunk, None)
    return time.perf_counter() - started


# --- Memory ---------------------------------------------------------------------------------


def _status(field: str) -> int:
    """A field of /proc/self/status in bytes (VmRSS, VmHWM)."""
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {field} in /proc/self/status")
    return int(match.group(1)) * 1024


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def rss_growth(action: Callable[[], float]) -> tuple[float, int, int]:
    """Run ``action``; return its result, the growth of the resident set's high-water mark
    over the resident size just before it, and that size."""
    if not _reset_peak():
        raise RuntimeError("cannot reset the peak RSS (/proc/self/clear_refs)")
    before = _status("VmRSS")
    result = action()
    return result, _status("VmHWM") - before, before


def python_peak(action: Callable[[], float]) -> int:
    """Peak of Python allocations (tracemalloc) above what was allocated before ``action``."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        action()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


# --- The run --------------------------------------------------------------------------------


def prepare() -> Setting:
    """A hospital, a physician and a colleague in the care team of one patient."""
    structure, user = bench_physician()
    colleague = User.objects.create_user(
        "collegue@chu.test", None, first_name="Paul", last_name="Essai", rpps="10000100015"
    )
    Membership.objects.create(user=colleague, structure=structure, role=Role.PHYSICIAN)
    patient = patient_services.register_patient(
        actor=user,
        structure=structure,
        identity=patient_services.Identity(
            birth_name="Banc",
            birth_first_names="Odile",
            sex="F",
            birth_date=dt.date(1958, 6, 1),
            birth_place_code="33063",
            identity_status=IdentityStatus.PROVISIONAL,
        ),
        ipp="1",
    )
    patient_services.add_to_care_team(actor=user, patient=patient, member=colleague)
    client = logged_in_client(user)
    return Setting(client, user, patient, reverse("documents:add", args=[patient.uuid]))


def _empty(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


@dataclass(frozen=True)
class Size:
    label: str
    bytes: int
    count: int  # uploads per round


def sizes(options: Options, limit: int) -> tuple[list[Size], Size]:
    """1, 5 and 20 MiB and the size limit (those within it), and the large upload."""
    requests = options.requests or DEFAULT_REQUESTS
    regular = [
        Size(label, size, max(1, requests // share))
        for label, size, share in (
            ("1mib", MIB, 1),
            ("5mib", 5 * MIB, 5),
            ("20mib", 20 * MIB, 20),
            ("limit", limit, 32),
        )
        if size < limit or label == "limit"
    ]
    large = Size("large", (options.scale or DEFAULT_LARGE_MIB) * MIB, 1)
    return regular, large


class Runner:
    def __init__(self, setting: Setting, blobs: Path, raw: Path) -> None:
        self.setting = setting
        self.blobs = blobs
        self.raw = raw
        self._tags = iter(range(1, 1 << 40))
        self.rss: list[int] = []
        self.resident = 0  # the process's RSS before the last measured upload
        self.verified: set[str] = set()

    def tag(self) -> int:
        return next(self._tags)

    def ours(self, size: Size, *, memory: bool = False) -> list[float]:
        samples = []
        for _ in range(size.count):
            call = functools.partial(upload, self.setting, size.bytes, self.tag())
            if memory:
                seconds, grown, self.resident = rss_growth(call)
                self.rss.append(grown)
            else:
                seconds = call()
            samples.append(seconds)
        if size.label not in self.verified:  # once per size, untimed: the stored blob opens
            self.verified.add(size.label)
            verify_last(size.bytes)
        _empty(self.blobs)
        return samples

    def baseline(self, size: Size, *, pipeline: bool = False) -> list[float]:
        samples = [
            raw_write(self.raw, size.bytes, self.tag(), pipeline=pipeline)
            for _ in range(size.count)
        ]
        _empty(self.raw)
        return samples


def verify_last(size: int) -> None:
    """The last upload's blob decrypts, hashes and measures what was sent."""
    document = Document.objects.select_related("blob").order_by("-id").first()
    if document is None or document.blob.size != size:
        raise RuntimeError("the last upload was not recorded")
    content.verify(document.blob)  # ContentCorrupted otherwise


def _rate(size: Size, seconds: Sequence[float]) -> float:
    """Sustained MB/s: every byte uploaded over the time taken by all the uploads."""
    return size.bytes * len(seconds) / sum(seconds) / MB


def run(options: Options) -> list[Metric]:
    work = Path(tempfile.mkdtemp(prefix="dcc-bench-upload-"))
    blobs, raw, anchor = work / "documents", work / "raw", work / "anchor"
    for directory in (blobs, raw, anchor):
        directory.mkdir()
    limit = settings.DOCUMENT_MAX_BYTES
    regular, large = sizes(options, limit)
    try:
        with override_settings(
            AUDIT_ANCHOR_FILE=str(anchor / "anchor.json"),
            AUDIT_SEAL_MODE="coalesced",  # the production default
            DOCUMENT_DIR=blobs,
            DOCUMENT_STORE="local",
            DOCUMENT_MAX_BYTES=max(limit, large.bytes),
        ):
            content._store.cache_clear()
            try:
                runner = Runner(prepare(), blobs, raw)
                return measure(runner, regular, large, options)
            finally:
                content._store.cache_clear()
                if not coalescing_sealer.wait_idle(60):
                    raise RuntimeError("the coalesced seal did not run")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(runner: Runner, regular: list[Size], large: Size, options: Options) -> list[Metric]:
    log = options.log
    before = Document.objects.count()
    warm_up = Size(regular[0].label, regular[0].bytes, 3)  # caches, templates, directories
    runner.ours(warm_up)
    runner.baseline(warm_up)
    metrics: list[Metric] = []
    uploads = warm_up.count
    measured: list[tuple[Size, list[float], list[float], list[float]]] = []
    for size in [*regular, large]:
        log(
            f"upload {size.label}: {options.repeat} rounds × {size.count} uploads of "
            f"{size.bytes / MIB:,.0f} MiB, dcc / raw write / raw pipeline"
            + (", peak RSS of each upload" if size is large else "")
        )
        ours, raw, pipeline = alternate(
            [
                functools.partial(runner.ours, size, memory=size is large),
                functools.partial(runner.baseline, size),
                functools.partial(runner.baseline, size, pipeline=True),
            ],
            options.repeat,
        )
        uploads += len(ours)
        measured.append((size, ours, raw, pipeline))
    # The disk's sustained write: the large file's raw write (G11's "cold-disk write", measured
    # on 1 GiB files in performance.md section 4.1), from this run.
    disk = _rate(large, measured[-1][2])
    for size, ours, raw, pipeline in measured:
        metrics += _throughput(size, ours, raw, pipeline, disk=None if size is large else disk)
        if size.label == "1mib":
            metrics.append(
                Metric(
                    "documents.upload.1mib.rate",
                    len(ours) / sum(ours),
                    "docs/s",
                    len(raw) / sum(raw),
                    "raw write + fsync, files/s",
                    "higher",
                    Goal("value", "min", 100.0),
                    samples=len(ours),
                    note=f"median {median(ours) * 1000:,.1f} ms per upload "
                    f"(raw {median(raw) * 1000:,.2f} ms)",
                )
            )
        if size is large:
            crypto_seconds = crypto_only(large.bytes, runner.tag())
            metrics.append(
                Metric(
                    "documents.upload.large.crypto",
                    large.bytes / crypto_seconds / MB,
                    "MB/s",
                    _rate(large, raw),
                    "raw write + fsync, same bytes",
                    "higher",
                    samples=1,
                    note="SHA-256 + AES-256-GCM in 1 MiB segments, in memory, one core",
                )
            )

    log("memory: one upload at the size limit and one large upload under tracemalloc")
    limit = regular[-1]
    peaks = {}
    for size in (limit, large):
        peaks[size.label] = python_peak(
            functools.partial(upload, runner.setting, size.bytes, runner.tag())
        )
        _empty(runner.blobs)
    uploads += 2
    if Document.objects.count() - before != uploads:
        raise RuntimeError("an upload did not record its document")
    large_mib = large.bytes / MIB
    return [
        *metrics,
        Metric(
            "documents.upload.large.rss_growth",
            max(runner.rss) / MIB,
            "MiB",
            large_mib,
            "file size, MiB",
            "lower",
            Goal("value", "max", RSS_GROWTH_MIB),
            samples=len(runner.rss),
            note="peak RSS during the upload over the RSS before it (the largest of the "
            f"rounds; smallest {min(runner.rss) / MIB:,.1f} MiB); the process's RSS: "
            f"{runner.resident / MIB:,.0f} MiB",
        ),
        Metric(
            "documents.upload.large.python_peak",
            peaks["large"] / MIB,
            "MiB",
            large_mib,
            "file size, MiB",
            "lower",
            Goal("value", "max", PYTHON_PEAK_MIB),
            samples=1,
            note=f"tracemalloc peak during the upload; {peaks['limit'] / MIB:,.1f} MiB for "
            f"an upload of {limit.bytes / MIB:,.0f} MiB (the size limit)",
        ),
    ]


def _throughput(
    size: Size, ours: list[float], raw: list[float], pipeline: list[float], *, disk: float | None
) -> list[Metric]:
    """The upload's throughput beside the raw write of the same bytes (the issue's goal, on the
    large upload: the sustained throughput), the raw pipeline and, for the smaller sizes, the
    disk's sustained write (G11's baseline; 150 MB/s at 5 MiB is G11's own target)."""
    mib = f"{size.bytes / MIB:,.0f} MiB"
    goal = None
    if disk is None:
        goal = Goal("ratio", "min", 0.40)
    elif size.label == "5mib":
        goal = Goal("value", "min", 150.0)
    metrics = [
        Metric(
            f"documents.upload.{size.label}",
            _rate(size, ours),
            "MB/s",
            _rate(size, raw),
            "raw write + fsync, same bytes",
            "higher",
            goal,
            samples=len(ours),
            note=f"{len(ours)} uploads of {mib}; median {median(ours) * 1000:,.1f} ms "
            f"(raw {median(raw) * 1000:,.1f} ms); slowest raw write "
            f"{size.bytes / max(raw) / MB:,.0f} MB/s",
        ),
        Metric(
            f"documents.upload.{size.label}.vs_pipeline",
            _rate(size, ours),
            "MB/s",
            _rate(size, pipeline),
            "raw SHA-256 + AES-GCM + write + fsync",
            "higher",
            samples=len(ours),
            note=f"uploads of {mib}; raw pipeline median {median(pipeline) * 1000:,.1f} ms",
        ),
    ]
    if disk is not None:
        metrics.append(
            Metric(
                f"documents.upload.{size.label}.vs_disk",
                _rate(size, ours),
                "MB/s",
                disk,
                "disk's sustained write: the large raw write",
                "higher",
                Goal("ratio", "min", 0.40),
                samples=len(ours),
                note=f"uploads of {mib} against G11's cold-disk write, from this run",
            )
        )
    return metrics
