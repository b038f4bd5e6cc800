"""Crash test of document uploads (issue 4): a real server is killed in the middle of uploads.

gunicorn serves ``config.wsgi`` in a process group of its own, against the suite's test
database (a file SQLite database in WAL mode, or PostgreSQL) with a document directory and a
master key of the test's own. A care-team professional (charter accepted) logs in with their
password and TOTP code, then eight clients upload documents of varied sizes through the real
add form at the same time, the larger ones streamed slowly: some are mid-body, others being
stored or recorded, others just acknowledged. The whole group is then killed with SIGKILL
(after a random delay: ``DCC_CRASH_SEED`` replays a run's) and, without any server:

- every upload that was acknowledged (the redirect to the new document) has its document, its
  blob in place, and reads back, through ``content.open_verified``, as exactly the bytes sent;
- every document row reads back in full as one of the payloads sent: none is missing, short,
  or fails verification;
- outside the store's temporary area (``.tmp/``, never served), every file is a recorded blob.

The server is then started again: it serves every acknowledged document, and its first upload
settles what the crash left in the temporary area (which is then empty). The cycle runs three
times, each kill landing elsewhere; at the end ``dcc documents_scrub`` finds nothing to report
and the audit chain verifies. The helpers here (server, login, raw multipart uploads) are
shared with ``test_interrupted.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from conftest import PASSWORD, current_token
from dcc.accounts.models import Charter, CharterAcceptance, User
from dcc.audit.models import AuditEvent
from dcc.audit.verify import verify_chain
from dcc.documents import content
from dcc.documents.models import Document, StoredBlob
from dcc.documents.storage.local import TEMPORARY_DIR
from dcc.documents.tests import samples
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parents[3]
BLOB_PATH = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f-]{36}\.blob$")
DETAIL_PATH = re.compile(r"^/patients/[0-9a-f-]{36}/documents/([0-9a-f-]{36})/$")
DOCUMENT_KEY = "crash-test-document-key-" + "c" * 32
START_TIMEOUT = 20.0


# --- The server --------------------------------------------------------------------------


def database_url() -> str:
    """The database this test runs on, as a ``DATABASE_URL`` for the server."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return (
        f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
        f"/{database['NAME']}"
    )


def server_environment(data_dir: Path, document_dir: Path) -> dict[str, str]:
    """Development mode, as the suite: same secret and audit keys (the server must read the
    sessions and events the test writes), a document directory and master key of the test's."""
    audit_key = settings.AUDIT_KEY
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DCC_DEV": "1",
        "DCC_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url(),
        "DCC_SECRET_KEY": settings.SECRET_KEY,
        "DCC_AUDIT_KEY": audit_key.decode() if isinstance(audit_key, bytes) else str(audit_key),
        "DCC_AUDIT_KEY_ID": settings.AUDIT_KEY_ID,
        "DCC_AUDIT_ANCHOR_FILE": "off",
        "DCC_AUDIT_SEAL": "on_commit",
        "DCC_DOCUMENT_DIR": str(document_dir),
        "DCC_DOCUMENT_KEY": DOCUMENT_KEY,
        "DCC_DOCUMENT_KEY_ID": "crash",
        "DCC_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def running_in_group(group: int) -> bool:
    """Whether a process of the group still runs (zombies waiting for their reaper do not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            return True
    return False


@dataclass
class Server:
    """gunicorn in a process group of its own; its log (access and errors) in a file."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the arbiter and every worker at once: no handler, no clean-up runs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while running_in_group(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not running_in_group(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def start_server(
    environment: dict[str, str],
    log: Path,
    *,
    worker_class: str = "gthread",
    workers: int = 2,
    threads: int = 8,
    timeout: int = 30,
) -> Server:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        "2",
        "--preload",  # Django is imported once, before the workers fork: a quicker start
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
    ]
    offset = log.stat().st_size if log.exists() else 0
    with open(log, "ab") as output:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )
    server = Server(process=process, log=log)
    try:
        wait_until_ready(server, offset)
    except BaseException:
        server.kill()  # never left running behind a failed start
        raise
    return server


def wait_until_ready(server: Server, offset: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn exited: {server.log_text()[-3000:]}")
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", server.log_text()[offset:])
        if found:
            server.port = int(found.group(1))
            try:
                if requests.get(server.base_url + "/compte/connexion/", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
        time.sleep(0.05)
    pytest.fail(f"gunicorn did not answer in {START_TIMEOUT} s:\n{server.log_text()[-3000:]}")


@pytest.fixture
def servers(tmp_path: Path, document_dir: Path, settings: Any) -> Iterator[Callable[..., Server]]:
    """Start servers on the test's database and document directory; all are stopped (killed
    if need be) at the end. The test process reads documents with the same master key."""
    settings.DOCUMENT_KEYS = {"crash": DOCUMENT_KEY.encode()}
    settings.DOCUMENT_KEY_ID = "crash"
    started: list[Server] = []
    data_dir = tmp_path / "server-data"
    data_dir.mkdir()
    environment = server_environment(data_dir, document_dir)

    def start(**options: Any) -> Server:
        server = start_server(environment, tmp_path / "server.log", **options)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.kill()


# --- A professional logged in, and raw uploads ---------------------------------------------


def form_token(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def log_in(server: Server, user: User, device: Any) -> requests.Session:
    """Password, then the TOTP code, as a browser does; the charter was accepted before."""
    session = requests.Session()
    page = session.get(server.base_url + "/compte/connexion/", timeout=10)
    answer = session.post(
        server.base_url + "/compte/connexion/",
        data={
            "csrfmiddlewaretoken": form_token(page.text),
            "email": user.email,
            "password": PASSWORD,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:2000]
    page = session.get(server.base_url + "/compte/connexion/code/", timeout=10)
    answer = session.post(
        server.base_url + "/compte/connexion/code/",
        data={"csrfmiddlewaretoken": form_token(page.text), "token": current_token(device)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:2000]
    home = session.get(server.base_url + "/", allow_redirects=False, timeout=10)
    assert home.status_code == 200, (home.status_code, home.headers.get("Location"))
    return session


@dataclass
class Upload:
    """One upload through the add form, sent over a raw socket so that the test decides how
    fast the body goes and where it stops."""

    path: str
    cookies: str
    token: str
    data: bytes
    name: str = "compte-rendu.pdf"
    content_type: str = "application/pdf"
    title: str = "Compte rendu"
    sent: int = 0  # body bytes sent so far
    status: int = 0
    location: str = ""
    error: str = ""
    done: bool = False
    boundary: str = field(default_factory=lambda: "dcc" + uuid.uuid4().hex)

    def parts(self) -> tuple[bytes, bytes]:
        """The multipart body before and after the file's bytes, fields in the form's order."""
        dash = f"--{self.boundary}\r\n".encode()

        def text(name: str, value: str) -> bytes:
            return (
                dash
                + (f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n').encode()
            )

        head = text("csrfmiddlewaretoken", self.token) + dash
        head += (
            f'Content-Disposition: form-data; name="file"; filename="{self.name}"\r\n'
            f"Content-Type: {self.content_type}\r\n\r\n"
        ).encode()
        act_date = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
        tail = b"\r\n" + b"".join(
            text(name, value)
            for name, value in (
                ("type_code", "60568-3"),
                ("title", self.title),
                ("act_date", act_date),
                ("author", ""),
                ("author_label", "Dr Anne Roux"),
                ("structure", ""),
                ("confidentiality", "N"),
            )
        )
        return head, tail + f"--{self.boundary}--\r\n".encode()

    @property
    def acknowledged(self) -> str | None:
        """The new document's UUID if the server answered with the success redirect."""
        found = DETAIL_PATH.match(self.location)
        return found.group(1) if self.status == 302 and found else None

    def body(self) -> bytes:
        head, tail = self.parts()
        return head + self.data + tail

    def file_starts(self) -> int:
        """Where the file's bytes start in the body."""
        return len(self.parts()[0])

    def request_head(self, port: int) -> bytes:
        """Request line and headers, announcing the whole body."""
        return (
            f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Cookie: {self.cookies}\r\n"
            f"Content-Type: multipart/form-data; boundary={self.boundary}\r\n"
            f"Content-Length: {len(self.body())}\r\nConnection: close\r\n\r\n"
        ).encode()

    def send(
        self,
        port: int,
        *,
        rate: float | None = None,
        stop: threading.Event | None = None,
        stop_at: int | None = None,
        timeout: float = 30,
    ) -> None:
        """Send the request (paced at ``rate`` bytes per second), then read the answer's
        status line and headers. ``stop_at`` closes the connection after that many body bytes;
        ``stop`` (the server was killed) ends the sending."""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
                sock.sendall(self.request_head(port))
                body = memoryview(self.body())
                step = 64 * 1024
                for start in range(0, len(body), step):
                    if stop is not None and stop.is_set():
                        return
                    piece = body[start : start + step]
                    if stop_at is not None and self.sent + len(piece) > stop_at:
                        sock.sendall(piece[: stop_at - self.sent])
                        self.sent = stop_at
                        return
                    sock.sendall(piece)
                    self.sent += len(piece)
                    if rate:
                        time.sleep(len(piece) / rate)
                self.read_answer(sock)
        except OSError as error:
            self.error = type(error).__name__
        finally:
            self.done = True

    def read_answer(self, sock: socket.socket) -> None:
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        if not received:
            self.error = "no answer"
            return
        lines = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "location":
                self.location = value.strip()


@dataclass(frozen=True)
class AddForm:
    """The add form as a logged-in browser has it: address, cookies, CSRF token."""

    path: str
    cookies: str
    token: str

    def upload(self, data: bytes, title: str = "Compte rendu") -> Upload:
        return Upload(
            path=self.path, cookies=self.cookies, token=self.token, data=data, title=title
        )


def add_form(server: Server, session: requests.Session, patient: Patient) -> AddForm:
    path = f"/patients/{patient.uuid}/documents/ajouter/"
    page = session.get(server.base_url + path, timeout=10)
    assert page.status_code == 200, page.status_code
    cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)
    return AddForm(path=path, cookies=cookies, token=form_token(page.text))


# --- The store ---------------------------------------------------------------------------


def store_files(document_dir: Path) -> tuple[set[str], set[str]]:
    """(keys of the blobs in place, names in the temporary area); any other file fails."""
    placed: set[str] = set()
    temporary: set[str] = set()
    for path in document_dir.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(document_dir).as_posix()
        if relative.startswith(TEMPORARY_DIR + "/"):
            temporary.add(path.name)
        else:
            assert BLOB_PATH.match(relative), f"unexpected file in the store: {relative}"
            placed.add(relative)
    return placed, temporary


def read_back(blob: StoredBlob) -> bytes:
    return b"".join(content.open_verified(blob))


# --- The crash ---------------------------------------------------------------------------

# Half the clients send large files slowly (they are mid-body when the server dies), half send
# small ones as fast as they can (several are always being stored or recorded).
LARGE = [3 * 1024 * 1024, 1024 * 1024, 6 * 1024 * 1024, 2 * 1024 * 1024]
SMALL = [16 * 1024, 90 * 1024, 4 * 1024, 250 * 1024, 40 * 1024]
CLIENTS = 8
RATE = 4 * 1024 * 1024  # bytes per second for a large file: 6 MB take 1.5 s
CYCLES = 3  # server lives killed (each kill lands at another moment of the uploads)


def payload(cycle: int, client: int, number: int) -> tuple[bytes, float | None]:
    """A unique PDF (the DCC refuses the same file twice) and the pace to send it at."""
    sizes, rate = (LARGE, RATE) if client % 2 else (SMALL, None)
    text = f"Compte rendu {cycle}-{client}-{number}"
    return samples.pdf(text, padding=sizes[(number + cycle) % len(sizes)]), rate


@pytest.fixture
def professional(
    rcp_secretary: User, patient: Patient, charter: Charter, totp_device: Any
) -> tuple[User, Any]:
    """The RCP secretary of the patient's care team, charter accepted, with a TOTP device."""
    CharterAcceptance.objects.get_or_create(user=rcp_secretary, charter=charter)
    device, _token = totp_device(rcp_secretary)
    return rcp_secretary, device


@dataclass
class Workload:
    """Concurrent uploads until the kill: what was sent, and what the server answered."""

    form: AddForm
    port: int
    cycle: int
    sent: dict[str, bytes] = field(default_factory=dict)  # SHA-256 -> every payload sent
    uploads: list[Upload] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def client(self, number: int) -> None:
        for turn in range(1000):
            if self.stop.is_set():
                return
            data, rate = payload(self.cycle, number, turn)
            upload = self.form.upload(data, title=f"Compte rendu {self.cycle}-{number}-{turn}")
            with self.lock:
                self.sent[hashlib.sha256(data).hexdigest()] = data
                self.uploads.append(upload)
            upload.send(self.port, rate=rate, stop=self.stop)
            if upload.error:
                return  # the server is gone

    def counts(self) -> tuple[int, int]:
        """(acknowledged, in the middle of their body)."""
        with self.lock:
            return (
                sum(1 for u in self.uploads if u.acknowledged),
                sum(1 for u in self.uploads if u.sent > 0 and not u.done),
            )

    def acknowledged(self) -> dict[str, Upload]:
        with self.lock:
            return {u.acknowledged: u for u in self.uploads if u.acknowledged}


def run_until_killed(server: Server, workload: Workload, delay: float) -> None:
    """Kill the server once several uploads are acknowledged while others are mid-body, after
    ``delay`` so that the kill lands in every phase (receiving, storing, recording)."""
    threads = [
        threading.Thread(target=workload.client, args=(n,), daemon=True) for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        acknowledged, midway = workload.counts()
        if acknowledged >= 4 and midway >= 2:
            break
        time.sleep(0.005)
    else:
        workload.stop.set()
        pytest.fail(f"no kill point reached: {server.log_text()[-3000:]}")
    time.sleep(delay)
    server.kill()
    workload.stop.set()
    for thread in threads:
        thread.join(timeout=10)


def check_after_crash(
    document_dir: Path,
    workload: Workload,
    acked: dict[str, Upload],
    sent: dict[str, bytes],
    context: str,
) -> None:
    """Without any server: acknowledged documents in place and whole; every row whole; no
    file outside the temporary area that no row records."""
    placed, temporary = store_files(document_dir)
    for document_uuid, upload in acked.items():
        document = Document.objects.select_related("blob").get(uuid=document_uuid)
        assert document.blob.key in placed, context
        whole = read_back(document.blob) == upload.data
        assert whole, (document_uuid, context)
    documents = list(Document.objects.select_related("blob"))
    for document in documents:
        data = read_back(document.blob)
        known = sent.get(hashlib.sha256(data).hexdigest()) == data
        assert known, (document.uuid, context)
        assert AuditEvent.objects.filter(
            action="document.added", resource_id=str(document.uuid)
        ).exists()
    assert StoredBlob.objects.count() == len(documents)
    recorded = set(StoredBlob.objects.values_list("key", flat=True))
    assert placed <= recorded, (placed - recorded, context)
    assert all(name.endswith((".part", ".blob")) for name in temporary), temporary
    cut = sum(1 for u in workload.uploads if u.sent > 0 and not u.acknowledged)
    print(  # shown with -s, or when the test fails
        f"{len(workload.uploads)} uploads, {len(workload.acknowledged())} acknowledged, "
        f"{cut} cut, {len(acked)} acknowledged and "
        f"{len(documents)} recorded in all, temporary area: {sorted(temporary)}; {context}"
    )


def check_restarted(
    server: Server,
    session: requests.Session,
    patient: Patient,
    document_dir: Path,
    acked: dict[str, Upload],
    context: str,
) -> Upload:
    """The restarted server serves every acknowledged document; its first upload settles what
    the crash left in the temporary area, and is acknowledged (and returned)."""
    for document_uuid, upload in acked.items():
        answer = session.get(
            f"{server.base_url}/patients/{patient.uuid}/documents/{document_uuid}/contenu/",
            timeout=30,
        )
        served = answer.status_code == 200 and answer.content == upload.data
        assert served, (document_uuid, answer.status_code, context)
    after = add_form(server, session, patient).upload(
        samples.pdf(f"Après la reprise {uuid.uuid4()}")
    )
    after.send(server.port)
    assert after.acknowledged, (after.status, after.error, server.log_text()[-3000:])
    placed, temporary = store_files(document_dir)
    assert temporary == set(), (temporary, context)
    assert placed == set(StoredBlob.objects.values_list("key", flat=True)), context
    return after


def test_killing_the_server_mid_upload_loses_no_acknowledged_document_and_shows_nothing_partial(
    servers: Callable[..., Server],
    professional: tuple[User, Any],
    patient: Patient,
    document_dir: Path,
) -> None:
    seed = int(os.environ.get("DCC_CRASH_SEED") or random.SystemRandom().randrange(1 << 30))
    chance = random.Random(seed)
    context = f"(seed {seed}: DCC_CRASH_SEED={seed} replays the kills' delays)"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone() == ("wal",)
    server = servers()
    session = log_in(server, *professional)
    acked: dict[str, Upload] = {}
    sent: dict[str, bytes] = {}
    for cycle in range(CYCLES):
        if cycle:
            server = servers()
            after = check_restarted(server, session, patient, document_dir, acked, context)
            sent[hashlib.sha256(after.data).hexdigest()] = after.data
        workload = Workload(form=add_form(server, session, patient), port=server.port, cycle=cycle)
        run_until_killed(server, workload, delay=chance.uniform(0, 0.25))
        log = server.log_text()
        assert "Traceback" not in log and '" 500 ' not in log, log[-5000:]
        assert len(workload.acknowledged()) >= 4, context
        assert any(u.sent > 0 and not u.acknowledged for u in workload.uploads), context
        acked |= workload.acknowledged()
        sent |= workload.sent
        check_after_crash(document_dir, workload, acked, sent, context)

    server = servers()
    check_restarted(server, session, patient, document_dir, acked, context)
    server.stop()
    out = io.StringIO()
    call_command("documents_scrub", stdout=out)
    assert "0 altérés, 0 manquants, 0 orphelins" in out.getvalue(), out.getvalue()
    assert "écriture" not in out.getvalue() and "attente" not in out.getvalue()
    assert verify_chain().ok
