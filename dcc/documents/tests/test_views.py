"""The document screens over HTTP: upload (streamed), bad files, viewing inline, download
headers, versions, cancelling, the timeline and its audit."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dcc.accounts.models import Charter, CharterAcceptance, User
from dcc.audit.models import AuditEvent
from dcc.core.tests.test_access_matrix import persona_client
from dcc.documents.choices import DocumentStatus
from dcc.documents.models import Document, StoredBlob
from dcc.documents.tests import samples
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(charter: Charter) -> Any:
    def make(user: User) -> Client:
        CharterAcceptance.objects.get_or_create(user=user, charter=charter)
        return persona_client(user)

    return make


def form(
    data: bytes, name: str = "cr.pdf", content_type: str = "application/pdf", **extra: Any
) -> dict[str, Any]:
    upload = io.BytesIO(data)
    upload.name = name
    values: dict[str, Any] = {
        "type_code": "60568-3",
        "title": "CR anatomopathologique",
        "act_date": "2026-11-02",
        "author_label": "Dr Anne Roux",
        "confidentiality": "N",
        "file": upload,
    }
    values.update(extra)
    return values


def post_file(
    client: Client,
    patient: Patient,
    data: bytes,
    name: str = "cr.pdf",
    content_type: str = "application/pdf",
    **extra: Any,
) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    values = form(data, **extra)
    values["file"] = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(reverse("documents:add", args=[patient.uuid]), values)


def stored(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_upload_view_inline_download_replace_cancel(
    as_user: Any, rcp_secretary: User, oncologist: User, patient: Patient, document_dir: Path
) -> None:
    client = as_user(rcp_secretary)
    data = samples.pdf("Conclusion : carcinome")
    response = post_file(client, patient, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    document = Document.objects.get()
    assert response["Location"] == reverse("documents:detail", args=[patient.uuid, document.uuid])

    doctor = as_user(oncologist)
    page = doctor.get(response["Location"])
    assert page.status_code == 200
    assert b"CR anatomopathologique" in page.content
    inline = doctor.get(reverse("documents:content", args=[patient.uuid, document.uuid]))
    assert inline.status_code == 200
    assert b"".join(inline.streaming_content) == data
    assert inline["Content-Type"] == "application/pdf"
    assert inline["Content-Disposition"].startswith("inline")
    assert inline["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in inline["Content-Security-Policy"]
    assert inline["X-Frame-Options"] == "SAMEORIGIN"
    download = doctor.get(reverse("documents:download", args=[patient.uuid, document.uuid]))
    assert download["Content-Disposition"].startswith("attachment")
    assert 'filename="cr.pdf"' in download["Content-Disposition"]
    b"".join(download.streaming_content)

    replaced = post_file(
        client,
        patient,
        samples.pdf("Conclusion corrigée"),
        reason="Relecture : grade corrigé",
    )
    assert replaced.status_code == 302  # a plain add of different content is allowed too
    new = client.post(
        reverse("documents:replace", args=[patient.uuid, document.uuid]),
        {
            **form(samples.pdf("Version 2")),
            "reason": "Relecture : grade corrigé",
        },
    )
    assert new.status_code == 302, new.content.decode()[:2000]
    document.refresh_from_db()
    assert document.status == DocumentStatus.REPLACED
    latest = Document.objects.get(set_id=document.set_id, version=2)
    old_page = doctor.get(reverse("documents:detail", args=[patient.uuid, document.uuid]))
    assert old_page.status_code == 200 and "version antérieure".encode() in old_page.content

    cancelled = client.post(
        reverse("documents:cancel", args=[patient.uuid, latest.uuid]),
        {"reason": "Document d'un autre patient"},
    )
    assert cancelled.status_code == 302
    latest.refresh_from_db()
    assert latest.status == DocumentStatus.CANCELLED
    timeline = doctor.get(reverse("documents:timeline", args=[patient.uuid]))
    assert str(latest.uuid).encode() not in timeline.content
    assert str(document.uuid).encode() not in timeline.content  # replaced: its latest is shown
    with_cancelled = doctor.get(
        reverse("documents:timeline", args=[patient.uuid]) + "?cancelled=on"
    )
    assert str(latest.uuid).encode() in with_cancelled.content
    actions = list(
        AuditEvent.objects.filter(
            patient_ref=str(patient.uuid), action__startswith="document."
        ).values_list("action", flat=True)
    )
    for action in (
        "document.added",
        "document.viewed",
        "document.downloaded",
        "document.replaced",
        "document.cancelled",
        "document.listed",
    ):
        assert action in actions


@pytest.mark.parametrize(
    ("data", "name", "content_type", "message"),
    [
        (b"", "vide.pdf", "application/pdf", "vide"),
        (samples.pdf()[:-30], "tronque.pdf", "application/pdf", ""),
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "cr.pdf", "application/pdf", ""),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "cr.pdf",
            "application/pdf",
            "",
        ),
        (
            samples.pdf().replace(
                b"/Type /Catalog",
                b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
            ),
            "js.pdf",
            "application/pdf",
            "",
        ),
        (samples.pdf() + b"PK\x05\x06" + b"\x00" * 18, "poly.pdf", "application/pdf", ""),
        (b"PK\x03\x04" + b"\x00" * 200, "cr.zip", "application/zip", ""),
        (samples.png(), "image.pdf", "application/pdf", ""),
    ],
)
def test_bad_files_get_a_clear_error_and_leave_nothing(
    as_user: Any,
    rcp_secretary: User,
    patient: Patient,
    document_dir: Path,
    data: bytes,
    name: str,
    content_type: str,
    message: str,
) -> None:
    response = post_file(as_user(rcp_secretary), patient, data, name, content_type)
    assert response.status_code == 400
    assert message.encode() in response.content
    assert b"errorlist" in response.content
    assert stored(document_dir) == []
    assert not Document.objects.exists() and not StoredBlob.objects.exists()
    assert AuditEvent.objects.filter(action="document.rejected", outcome="denied").exists()


def test_one_byte_over_the_limit_is_refused(
    as_user: Any, rcp_secretary: User, patient: Patient, document_dir: Path, settings: Any
) -> None:
    data = samples.pdf(padding=4000)
    settings.DOCUMENT_MAX_BYTES = len(data) - 1
    response = post_file(as_user(rcp_secretary), patient, data)
    assert response.status_code in (400, 413)
    assert stored(document_dir) == []
    settings.DOCUMENT_MAX_BYTES = len(data)
    assert post_file(as_user(rcp_secretary), patient, data).status_code == 302


def test_hostile_file_names_never_reach_the_store(
    as_user: Any, rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    name = "../../etc/" + "\x07\u202e" + "x" * 300 + ".pdf"
    response = post_file(as_user(rcp_secretary), patient, samples.pdf(), name=name)
    assert response.status_code == 302
    blob = StoredBlob.objects.get()
    assert "/" not in blob.file_name and ".." not in blob.file_name.replace("...", "")
    assert "\x07" not in blob.file_name and "\u202e" not in blob.file_name
    assert len(blob.file_name) <= 130 and blob.file_name.endswith(".pdf")
    assert [p.relative_to(document_dir).as_posix() for p in stored(document_dir)] == [blob.key]


def test_readers_outside_the_team_get_404_and_read_only_cannot_upload(
    as_user: Any, rcp_secretary: User, outsider: User, patient: Patient
) -> None:
    post_file(as_user(rcp_secretary), patient, samples.pdf())
    document = Document.objects.get()
    client = as_user(outsider)
    for route in ("documents:detail", "documents:content", "documents:download"):
        assert client.get(reverse(route, args=[patient.uuid, document.uuid])).status_code == 404
    assert client.get(reverse("documents:timeline", args=[patient.uuid])).status_code == 404
    assert post_file(client, patient, samples.pdf("x")).status_code == 404


def test_a_document_of_another_patient_is_404(
    as_user: Any, rcp_secretary: User, patient: Patient, structures: Any
) -> None:
    from dcc.documents.tests.conftest import IDENTITY
    from dcc.patients import services as patient_services

    other = patient_services.register_patient(
        actor=rcp_secretary,
        structure=structures["hospital"],
        identity=IDENTITY.__class__(
            **{**IDENTITY.__dict__, "birth_first_names": "Paul", "sex": "M"}
        ),
        despite_possible_duplicates=True,
    )
    client = as_user(rcp_secretary)
    post_file(client, patient, samples.pdf())
    document = Document.objects.get()
    response = client.get(reverse("documents:detail", args=[other.uuid, document.uuid]))
    assert response.status_code == 404


def test_a_tampered_blob_is_reported_not_served(
    as_user: Any, rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    client = as_user(rcp_secretary)
    post_file(client, patient, samples.pdf())
    document = Document.objects.get()
    path = document_dir / document.blob.key
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF
    path.write_bytes(bytes(raw))
    response = client.get(reverse("documents:content", args=[patient.uuid, document.uuid]))
    assert response.status_code == 409
    assert b"%PDF" not in response.content
    assert b"illisible" in response.content
    assert AuditEvent.objects.filter(action="document.integrity_failed").exists()


def test_a_cda_is_shown_as_safe_html(as_user: Any, rcp_secretary: User, patient: Patient) -> None:
    client = as_user(rcp_secretary)
    response = post_file(client, patient, samples.CDA, "cr.xml", "text/xml")
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"])
    assert b"Carcinome canalaire infiltrant" in page.content
    assert b"<script>alert(1)" not in page.content
    raw = client.get(reverse("documents:content", args=[patient.uuid, Document.objects.get().uuid]))
    assert raw["Content-Disposition"].startswith("attachment")


def test_an_image_is_served_sandboxed(as_user: Any, rcp_secretary: User, patient: Patient) -> None:
    client = as_user(rcp_secretary)
    assert post_file(client, patient, samples.png(), "photo.png", "image/png").status_code == 302
    document = Document.objects.get()
    inline = client.get(reverse("documents:content", args=[patient.uuid, document.uuid]))
    assert inline["Content-Type"] == "image/png"
    assert inline["Content-Security-Policy"].startswith("sandbox")


def test_htmx_upload_answers_with_a_redirect_header(
    as_user: Any, rcp_secretary: User, patient: Patient
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    values = form(samples.pdf())
    values["file"] = SimpleUploadedFile("cr.pdf", samples.pdf(), content_type="application/pdf")
    response = as_user(rcp_secretary).post(
        reverse("documents:add", args=[patient.uuid]), values, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(f"/patients/{patient.uuid}/documents/")


def test_the_timeline_filters_by_type_and_date(
    as_user: Any, rcp_secretary: User, patient: Patient
) -> None:
    client = as_user(rcp_secretary)
    post_file(client, patient, samples.pdf("a"), title="Anapath", act_date="2026-01-10")
    post_file(
        client, patient, samples.pdf("b"), type_code="34874-8", title="CRO", act_date="2026-03-05"
    )
    url = reverse("documents:timeline", args=[patient.uuid])
    both = client.get(url)
    assert b"Anapath" in both.content and b"CRO" in both.content
    assert both.content.index(b"CRO") < both.content.index(b"Anapath")
    only = client.get(url + "?type=34874-8")
    assert b"CRO" in only.content and b"Anapath" not in only.content
    since = client.get(url + "?since=2026-02-01")
    assert b"Anapath" not in since.content
    listed = AuditEvent.objects.filter(action="document.listed").order_by("-id").first()
    assert listed is not None and json.loads(listed.details).get("since") == str(
        dt.date(2026, 2, 1)
    )
