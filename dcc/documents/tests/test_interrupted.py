"""Uploads that never finish (issue 4): a client that announces a body and stops sending it,
closing the connection or leaving it open until the server gives up; and what crashed writers
leave in the store.

Against a real gunicorn (helpers of ``test_crash.py``): the server drops what arrived, answers
a clear 400 when the client is still listening, logs no server error, records nothing, leaves
no file in the store, and goes on serving. Against Django's test stack, the same abort paths
cheaply (a body that ends early, a read that fails, the worker stopped mid-body), the CSRF
check that runs after the streaming handler, and the recovery of what a killed writer left in
the store's temporary area (at the next upload, and by ``dcc documents_scrub``).
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dcc.accounts.models import Charter, CharterAcceptance, User
from dcc.audit.models import AuditEvent
from dcc.documents import content, scrub, services
from dcc.documents.models import Document, StoredBlob
from dcc.documents.storage.local import TEMPORARY_DIR, LocalBlobStore, staged_name
from dcc.documents.tests import samples
from dcc.documents.tests.test_crash import (  # noqa: F401  (``servers`` and ``professional`` are fixtures)
    Server,
    Upload,
    add_form,
    log_in,
    professional,
    servers,
    store_files,
)
from dcc.documents.tests.test_services import metadata, pending
from dcc.patients.models import Patient

INTERRUPTED = "L'envoi a été interrompu : recommencez."


def nothing_stored(document_dir: Path) -> None:
    assert not Document.objects.exists() and not StoredBlob.objects.exists()
    assert [p for p in document_dir.rglob("*") if p.is_file()] == []


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def answer_of(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


# --- Against a real server ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_client_that_stops_sending_leaves_nothing_and_the_server_goes_on(
    servers: Callable[..., Server],  # noqa: F811
    professional: tuple[User, Any],  # noqa: F811
    patient: Patient,
    document_dir: Path,
) -> None:
    # Synchronous workers, as in docs/deployment.md, stopped after 2 seconds without progress.
    server = servers(worker_class="sync", workers=2, threads=1, timeout=2)
    session = log_in(server, *professional)
    form = add_form(server, session, patient)
    data = samples.pdf("Compte rendu interrompu", padding=3 * 1024 * 1024)

    # The client stops in the middle of the file and closes its side, still listening.
    upload = form.upload(data)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(upload.request_head(server.port) + upload.body()[: len(upload.body()) // 2])
        sock.shutdown(socket.SHUT_WR)
        answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert INTERRUPTED.encode() in answer.replace(b"&#x27;", b"'")

    # It closes the connection at once: right after the headers, in the file, at its end.
    for where in (0.0, 0.3, 0.999):
        upload = form.upload(samples.pdf(f"Coupé à {where}", padding=1024 * 1024))
        cut = upload.file_starts() + int(len(upload.data) * where) if where else 0
        upload.send(server.port, stop_at=cut)
    # None of this is a server error (once the server is through with the four of them).
    wait_for(lambda: server.log_text().count(f"POST {form.path} ") == 4)
    log = server.log_text()
    assert "Traceback" not in log and '" 500 ' not in log, log[-5000:]
    assert not Document.objects.exists() and not StoredBlob.objects.exists()
    assert store_files(document_dir) == (set(), set())

    # It stops mid-file and stays silent: after its timeout gunicorn stops the worker (and
    # answers its own 500 if the client still listens); what had arrived is dropped on the way.
    upload = form.upload(samples.pdf("Silencieux", padding=1024 * 1024))
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(upload.request_head(server.port) + upload.body()[: len(upload.body()) // 2])
        started = time.monotonic()
        answer = answer_of(sock)
        assert time.monotonic() - started < 10
    assert answer == b"" or answer.startswith(b"HTTP/1.1 500"), answer[:300]
    assert "WORKER TIMEOUT" in server.log_text()[len(log) :]

    # Nothing was recorded or kept, and the server still takes documents.
    assert not Document.objects.exists() and not StoredBlob.objects.exists()
    assert store_files(document_dir) == (set(), set())
    done = form.upload(samples.pdf("Après les interruptions"))
    done.send(server.port)
    assert done.acknowledged, (done.status, done.error)
    document = Document.objects.get()
    assert store_files(document_dir) == ({document.blob.key}, set())
    assert b"".join(content.open_verified(document.blob)) == done.data
    server.stop()
    assert AuditEvent.objects.filter(action="document.added").count() == 1


# --- Against Django's test stack ----------------------------------------------------------


@pytest.fixture
def enforcing_client(charter: Charter) -> Callable[[User], Client]:
    """A client logged in (strongly authenticated, charter accepted) that sends the CSRF token
    as a browser does: the check runs, as in production."""

    def make(user: User) -> Client:
        CharterAcceptance.objects.get_or_create(user=user, charter=charter)
        client = Client(enforce_csrf_checks=True)
        client.force_login(user, backend="dcc.accounts.backends.ThrottledPasswordBackend")
        session = client.session
        now = int(timezone.now().timestamp())
        session.update({"dcc_auth_at": now, "dcc_seen_at": now, "dcc_login_method": "psc"})
        session.save()
        return client

    return make


def browser_upload(client: Client, patient: Patient, data: bytes) -> Upload:
    """The add form as the browser posts it (token from the page, fields in order)."""
    page = client.get(reverse("documents:add", args=[patient.uuid]))
    assert page.status_code == 200
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="', 1)[1].split('"')[0]
    return Upload(
        path=reverse("documents:add", args=[patient.uuid]), cookies="", token=token, data=data
    )


class CutStream:
    """A request body that ends, or fails, after ``cut`` bytes."""

    def __init__(self, body: bytes, cut: int, error: BaseException | None = None) -> None:
        self._stream = io.BytesIO(body[:cut])
        self._error = error

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if not data and self._error is not None:
            raise self._error
        return data

    def readline(self, size: int = -1) -> bytes:
        return self._stream.readline(size)


def post_cut(client: Client, upload: Upload, cut: int, error: BaseException | None = None) -> Any:
    body = upload.body()
    environ: dict[str, Any] = {"wsgi.input": CutStream(body, cut, error)}
    environ["CONTENT_LENGTH"] = str(len(body))
    return client.post(
        upload.path,
        data=body,
        content_type=f"multipart/form-data; boundary={upload.boundary}",
        **environ,
    )


@pytest.mark.django_db
def test_an_upload_through_the_csrf_check_is_streamed_and_recorded(
    enforcing_client: Callable[[User], Client],
    rcp_secretary: User,
    patient: Patient,
    document_dir: Path,
) -> None:
    """The CSRF check reads the form: it must do so through the streaming handler (it used to
    run first, through Django's default handlers, and the upload failed with a 500)."""
    client = enforcing_client(rcp_secretary)
    data = samples.pdf("Compte rendu", padding=3 * 1024 * 1024)
    upload = browser_upload(client, patient, data)
    body = upload.body()
    response = client.post(
        upload.path, data=body, content_type=f"multipart/form-data; boundary={upload.boundary}"
    )
    assert response.status_code == 302, response.content[:2000]
    document = Document.objects.get()
    assert b"".join(content.open_verified(document.blob)) == data
    assert store_files(document_dir) == ({document.blob.key}, set())


@pytest.mark.django_db
def test_a_new_version_through_the_csrf_check_is_recorded(
    enforcing_client: Callable[[User], Client],
    rcp_secretary: User,
    patient: Patient,
    document_dir: Path,
) -> None:
    first = services.add_document(
        actor=rcp_secretary,
        patient=patient,
        content=pending(samples.pdf("v1")),
        metadata=metadata(),
    )
    client = enforcing_client(rcp_secretary)
    path = reverse("documents:replace", args=[patient.uuid, first.uuid])
    page = client.get(path)
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="', 1)[1].split('"')[0]
    upload = Upload(path=path, cookies="", token=token, data=samples.pdf("v2", padding=300_000))
    body = upload.body().replace(
        f"--{upload.boundary}--".encode(),
        f'--{upload.boundary}\r\nContent-Disposition: form-data; name="reason"\r\n\r\n'
        f"Relecture du compte rendu\r\n--{upload.boundary}--".encode(),
    )
    response = client.post(
        path, data=body, content_type=f"multipart/form-data; boundary={upload.boundary}"
    )
    assert response.status_code == 302, response.content[:2000]
    second = Document.objects.get(set_id=first.set_id, version=2)
    assert b"".join(content.open_verified(second.blob)) == upload.data
    assert store_files(document_dir) == ({first.blob.key, second.blob.key}, set())


@pytest.mark.django_db
def test_an_upload_without_the_csrf_token_is_refused_and_leaves_nothing(
    enforcing_client: Callable[[User], Client],
    rcp_secretary: User,
    patient: Patient,
    document_dir: Path,
) -> None:
    client = enforcing_client(rcp_secretary)
    upload = browser_upload(client, patient, samples.pdf(padding=500_000))
    upload.token = "forged" + "x" * 58
    body = upload.body()
    response = client.post(
        upload.path, data=body, content_type=f"multipart/form-data; boundary={upload.boundary}"
    )
    assert response.status_code == 403
    nothing_stored(document_dir)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [None, OSError("connection reset"), TimeoutError("timed out")],
    ids=["closed", "reset", "timed-out"],
)
@pytest.mark.parametrize("where", [0.5, 0.999], ids=["mid-file", "end-of-file"])
def test_a_body_that_stops_early_answers_400_and_leaves_nothing(
    enforcing_client: Callable[[User], Client],
    rcp_secretary: User,
    patient: Patient,
    document_dir: Path,
    error: BaseException | None,
    where: float,
) -> None:
    client = enforcing_client(rcp_secretary)
    upload = browser_upload(client, patient, samples.pdf("Coupé", padding=2 * 1024 * 1024))
    response = post_cut(client, upload, upload.file_starts() + int(len(upload.data) * where), error)
    assert response.status_code == 400
    assert INTERRUPTED in response.content.decode().replace("&#x27;", "'")
    nothing_stored(document_dir)


@pytest.mark.django_db
def test_a_body_announced_over_the_limit_is_refused_unread(
    enforcing_client: Callable[[User], Client],
    rcp_secretary: User,
    patient: Patient,
    document_dir: Path,
    settings: Any,
) -> None:
    """Refused on its Content-Length, before a byte is read (this page used to fail with a 500:
    an unbound form cannot take an error)."""
    client = enforcing_client(rcp_secretary)
    upload = browser_upload(client, patient, samples.pdf("Trop grand"))
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    environ: dict[str, Any] = {"wsgi.input": CutStream(b"", 0, AssertionError("read"))}
    environ["CONTENT_LENGTH"] = "99999999"
    response = client.post(
        upload.path,
        data=upload.body(),
        content_type=f"multipart/form-data; boundary={upload.boundary}",
        **environ,
    )
    assert response.status_code == 413
    assert "taille maximale de 1 Mo" in response.content.decode()
    nothing_stored(document_dir)
    assert AuditEvent.objects.filter(action="document.rejected").exists()


@pytest.mark.django_db
def test_a_worker_stopped_mid_body_leaves_nothing(
    enforcing_client: Callable[[User], Client],
    rcp_secretary: User,
    patient: Patient,
    document_dir: Path,
) -> None:
    """A synchronous worker that times out is stopped by ``SystemExit`` in the middle of the
    body: the content received so far is dropped on the way out."""
    client = enforcing_client(rcp_secretary)
    upload = browser_upload(client, patient, samples.pdf("Arrêté", padding=3 * 1024 * 1024))
    with pytest.raises(SystemExit):
        post_cut(client, upload, len(upload.body()) // 2, SystemExit(1))
    nothing_stored(document_dir)


@pytest.mark.django_db
def test_a_blob_whose_record_fails_is_dropped_not_left_behind(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    """A new version whose document was replaced meanwhile is refused inside the transaction,
    after its blob was committed: settling drops the blob (it used to stay as an orphan)."""
    first = services.add_document(
        actor=rcp_secretary,
        patient=patient,
        content=pending(samples.pdf("v1")),
        metadata=metadata(),
    )
    stale = Document.objects.get(pk=first.pk)
    services.replace_document(
        actor=rcp_secretary,
        document=first,
        content=pending(samples.pdf("v2")),
        metadata=metadata(),
        reason="Relecture du compte rendu",
    )
    late = pending(samples.pdf("v2 bis"))
    with pytest.raises(ValidationError, match="déjà été remplacé"):
        services.replace_document(
            actor=rcp_secretary,
            document=stale,
            content=late,
            metadata=metadata(),
            reason="Relecture concurrente",
        )
    late.abort()  # what the view does once the service returns or fails
    recorded = set(StoredBlob.objects.values_list("key", flat=True))
    assert len(recorded) == 2
    assert store_files(document_dir) == (recorded, set())


@pytest.mark.django_db
def test_a_committed_blob_is_put_in_place_once_recorded_and_readable_before(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    # Committed, not yet recorded: staged, and already readable under its key.
    upload = pending(samples.pdf("Compte rendu"))
    blob = upload.commit()
    assert store_files(document_dir) == (set(), {staged_name(blob.key)})
    assert b"".join(content.open_verified(blob)) == samples.pdf("Compte rendu")
    upload.settle()  # no row records it: dropped
    assert store_files(document_dir) == (set(), set())
    # The service records it, then settles it: in place under its key.
    document = services.add_document(
        actor=rcp_secretary,
        patient=patient,
        content=pending(samples.pdf("Compte rendu")),
        metadata=metadata(),
    )
    assert store_files(document_dir) == ({document.blob.key}, set())
    assert b"".join(content.open_verified(document.blob)) == samples.pdf("Compte rendu")


# --- What a killed writer leaves, and who cleans it ----------------------------------------

WRITER = """
import os, signal, sys
from dcc.documents.storage.local import LocalBlobStore
store = LocalBlobStore(sys.argv[1])
for key in sys.argv[3:]:
    writer = store.create(key)
    writer.write(os.urandom(100_000))
    if sys.argv[2] == "stage":
        writer.stage()
print("ready", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_writer(root: Path, keys: list[str], *, stage: bool) -> None:
    """Writes (and stages) blobs in another process, killed before it settles them."""
    result = subprocess.run(
        [sys.executable, "-c", WRITER, str(root), "stage" if stage else "write", *keys],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == -9 and result.stdout == b"ready\n", result.stderr


def new_key() -> str:
    name = uuid.uuid4()
    return f"{name.hex[:2]}/{name.hex[2:4]}/{name}.blob"


@pytest.mark.django_db
def test_the_next_upload_settles_what_a_killed_process_left(
    enforcing_client: Callable[[User], Client],
    rcp_secretary: User,
    patient: Patient,
    document_dir: Path,
) -> None:
    recorded_document = services.add_document(
        actor=rcp_secretary, patient=patient, content=pending(samples.pdf("a")), metadata=metadata()
    )
    recorded = recorded_document.blob.key
    # As if the process died between the database commit and putting the blob in place.
    (document_dir / recorded).rename(document_dir / TEMPORARY_DIR / staged_name(recorded))
    unrecorded = new_key()
    killed_writer(document_dir, [unrecorded], stage=True)
    killed_writer(document_dir, [new_key(), new_key()], stage=False)
    live = LocalBlobStore(document_dir).create(new_key())  # a write in progress here
    assert len(store_files(document_dir)[1]) == 5

    scrub._recovered.clear()  # a new process
    client = enforcing_client(rcp_secretary)
    upload = browser_upload(client, patient, samples.pdf("b"))
    response = client.post(
        upload.path,
        data=upload.body(),
        content_type=f"multipart/form-data; boundary={upload.boundary}",
    )
    assert response.status_code == 302
    placed, temporary = store_files(document_dir)
    assert recorded in placed and unrecorded not in placed
    assert placed == set(StoredBlob.objects.values_list("key", flat=True))
    assert len(temporary) == 1  # the live write, left alone
    live.abort()
    assert b"".join(content.open_verified(recorded_document.blob)) == samples.pdf("a")


@pytest.mark.django_db
def test_the_scrub_settles_what_a_killed_process_left(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    document = services.add_document(
        actor=rcp_secretary, patient=patient, content=pending(samples.pdf("a")), metadata=metadata()
    )
    key = document.blob.key
    (document_dir / key).rename(document_dir / TEMPORARY_DIR / staged_name(key))
    unrecorded = new_key()
    killed_writer(document_dir, [unrecorded], stage=True)
    killed_writer(document_dir, [new_key()], stage=False)
    out, err = io.StringIO(), io.StringIO()
    call_command("documents_scrub", stdout=out, stderr=err)
    text = out.getvalue()
    assert f"contenu enregistré mis en place : {key}" in text
    assert f"contenu jamais enregistré supprimé : {unrecorded}" in text
    assert "fichiers temporaires d'écritures interrompues supprimés : 1" in text
    assert "0 altérés, 0 manquants, 0 orphelins" in text and err.getvalue() == ""
    assert store_files(document_dir) == ({key}, set())
    event = AuditEvent.objects.filter(action="document.scrubbed").latest("id")
    recovered = json.loads(event.details)["recovered"]
    assert recovered == {"removed_parts": 1, "published": 1, "discarded": 1, "failed": 0}


# --- The order of the writes -------------------------------------------------------------


def test_the_store_syncs_a_blob_before_naming_it_and_names_it_durably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process kill cannot tell whether data was flushed (the page cache survives it); a
    power cut can. Each name is given to fsync'ed content, and each new name is made durable
    (its directory fsync'ed) before the next step relies on it."""
    calls: list[tuple[str, str]] = []
    real_fsync, real_link, real_unlink = os.fsync, os.link, os.unlink

    def fsync(descriptor: int) -> None:
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    def link(source: Any, target: Any, **kwargs: Any) -> None:
        calls.append(("link", f"{Path(source).name} -> {Path(target).parent}"))
        real_link(source, target, **kwargs)

    def unlink(path: Any, **kwargs: Any) -> None:
        calls.append(("unlink", Path(path).name))
        real_unlink(path, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    monkeypatch.setattr(os, "unlink", unlink)
    store = LocalBlobStore(tmp_path)
    key = new_key()
    writer = store.create(key)
    writer.write(b"x" * 1000)
    writer.stage()
    writer.publish()
    temporary, final = (tmp_path / TEMPORARY_DIR).resolve(), (tmp_path / key).parent.resolve()
    part = calls[0][1]
    assert calls == [
        ("fsync", part),  # the content, before any name points at it
        ("link", f"{Path(part).name} -> {temporary}"),
        ("unlink", Path(part).name),
        ("fsync", str(temporary)),  # the staged name is durable
        ("link", f"{staged_name(key)} -> {final}"),
        ("fsync", str(final)),  # the name under its key is durable...
        ("unlink", staged_name(key)),  # ...before the staged one goes
    ]
    assert part.endswith(".part") and Path(part).parent == temporary
