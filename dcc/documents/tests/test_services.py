"""Adding, replacing and cancelling documents: stored encrypted, checked on every read,
never deleted, the care team notified."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dcc.accounts.models import User
from dcc.audit.models import AuditEvent
from dcc.documents import content, services
from dcc.documents.choices import DocumentStatus
from dcc.documents.inspection import RejectedContent
from dcc.documents.models import Document, StoredBlob
from dcc.documents.tests import samples
from dcc.notifications.models import Notification
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db

PATHOLOGY = "60568-3"


def pending(data: bytes, name: str = "cr.pdf", **kwargs: object) -> content.PendingContent:
    upload = content.PendingContent(file_name=name, **kwargs)  # type: ignore[arg-type]
    for start in range(0, len(data), 65536):
        upload.feed(data[start : start + 65536])
    return upload


def metadata(**changes: object) -> services.Metadata:
    values: dict[str, object] = {
        "type_code": PATHOLOGY,
        "title": "CR anatomopathologique — biopsie mammaire",
        "act_date": dt.date(2026, 11, 2),
        "author_label": "Dr Anne Roux, laboratoire Pasteur",
    }
    values.update(changes)
    return services.Metadata(**values)  # type: ignore[arg-type]


def blob_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_document_is_stored_encrypted_and_reads_back(
    rcp_secretary: User, oncologist: User, patient: Patient, document_dir: Path
) -> None:
    data = samples.pdf("Carcinome canalaire infiltrant")
    document = services.add_document(
        actor=rcp_secretary, patient=patient, content=pending(data), metadata=metadata()
    )
    assert document.version == 1 and document.status == DocumentStatus.CURRENT
    assert document.class_code == "10"
    blob = document.blob
    assert (blob.kind, blob.mime_type, blob.size) == ("pdf", "application/pdf", len(data))
    assert blob.file_name == "cr.pdf"
    files = blob_files(document_dir)
    assert [f.relative_to(document_dir).as_posix() for f in files] == [blob.key]
    stored = files[0].read_bytes()
    assert b"Carcinome" not in stored and b"%PDF" not in stored
    assert b"".join(content.open_verified(blob)) == data
    event = AuditEvent.objects.get(action="document.added")
    assert (
        event.patient_ref == str(patient.uuid)
        and json.loads(event.details)["sha256"] == blob.sha256
    )
    notified = Notification.objects.get(kind="document_added")
    assert notified.recipient == oncologist
    assert "anatomie" in notified.title


def test_a_recorded_blob_is_put_in_place_without_asking_the_database_again(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    upload = pending(samples.pdf("Compte rendu"))
    with CaptureQueriesContext(connection) as queries:
        document = services.add_document(
            actor=rcp_secretary, patient=patient, content=upload, metadata=metadata()
        )
    asked = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in asked if '"documents_storedblob"."key" =' in sql]
    assert [f.relative_to(document_dir).as_posix() for f in blob_files(document_dir)] == [
        document.blob.key
    ]


def test_a_blob_whose_transaction_failed_is_dropped(
    rcp_secretary: User, patient: Patient, document_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise IntegrityError("notification refused")

    monkeypatch.setattr(services, "_notify_care_team", broken)
    with pytest.raises(IntegrityError):
        services.add_document(
            actor=rcp_secretary,
            patient=patient,
            content=pending(samples.pdf("Compte rendu")),
            metadata=metadata(),
        )
    assert not StoredBlob.objects.exists()
    assert blob_files(document_dir) == []


def test_a_flipped_byte_is_never_served_and_the_scrub_sees_it(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    document = services.add_document(
        actor=rcp_secretary, patient=patient, content=pending(samples.pdf()), metadata=metadata()
    )
    path = document_dir / document.blob.key
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(content.ContentCorrupted):
        content.open_verified(document.blob)
    with pytest.raises(content.ContentCorrupted):
        content.verify(document.blob)


def test_a_blob_swapped_for_another_documents_is_refused(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    first = services.add_document(
        actor=rcp_secretary,
        patient=patient,
        content=pending(samples.pdf("un")),
        metadata=metadata(),
    )
    second = services.add_document(
        actor=rcp_secretary,
        patient=patient,
        content=pending(samples.pdf("deux")),
        metadata=metadata(title="Autre"),
    )
    (document_dir / first.blob.key).write_bytes((document_dir / second.blob.key).read_bytes())
    with pytest.raises(content.ContentCorrupted):
        content.open_verified(first.blob)


def test_a_replacement_is_a_new_version_and_the_first_stays_readable(
    rcp_secretary: User, patient: Patient
) -> None:
    first = services.add_document(
        actor=rcp_secretary,
        patient=patient,
        content=pending(samples.pdf("v1")),
        metadata=metadata(),
    )
    second = services.replace_document(
        actor=rcp_secretary,
        document=first,
        content=pending(samples.pdf("v2 corrigée")),
        metadata=metadata(title="CR corrigé"),
        reason="Compte rendu complété après relecture",
    )
    first.refresh_from_db()
    assert (second.set_id, second.version, second.previous_id) == (first.set_id, 2, first.pk)
    assert first.status == DocumentStatus.REPLACED
    assert b"v1" in b"".join(content.open_verified(first.blob))
    with pytest.raises(ValidationError):
        services.replace_document(
            actor=rcp_secretary,
            document=first,
            content=pending(samples.pdf("v3")),
            metadata=metadata(),
            reason="Version périmée remplacée",
        )


def test_a_cancelled_document_stays_with_its_reason(rcp_secretary: User, patient: Patient) -> None:
    document = services.add_document(
        actor=rcp_secretary, patient=patient, content=pending(samples.pdf()), metadata=metadata()
    )
    with pytest.raises(ValidationError):
        services.cancel_document(actor=rcp_secretary, document=document, reason="non")
    cancelled = services.cancel_document(
        actor=rcp_secretary, document=document, reason="Document d'un autre patient"
    )
    assert cancelled.status == DocumentStatus.CANCELLED
    assert cancelled.cancelled_by == rcp_secretary and cancelled.cancelled_at is not None
    assert Document.objects.filter(pk=document.pk).exists()
    with pytest.raises(ValidationError):
        services.cancel_document(actor=rcp_secretary, document=cancelled, reason="encore une fois")


def test_the_same_content_twice_is_refused_and_leaves_nothing(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    data = samples.pdf()
    services.add_document(
        actor=rcp_secretary, patient=patient, content=pending(data), metadata=metadata()
    )
    before = blob_files(document_dir)
    with pytest.raises(ValidationError, match="déjà dans le dossier") as refused:
        services.add_document(
            actor=rcp_secretary, patient=patient, content=pending(data), metadata=metadata()
        )
    # The document that already holds it is named: its title, act date and version.
    assert "« CR anatomopathologique — biopsie mammaire » du 02/11/2026 (version 1)" in str(
        refused.value
    )
    assert blob_files(document_dir) == before
    assert Document.objects.count() == StoredBlob.objects.count() == 1


def test_bad_metadata_leaves_no_blob_and_no_row(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    for bad in (
        metadata(type_code="99999-9"),
        metadata(title="   "),
        metadata(act_date=timezone.localdate() + dt.timedelta(days=1)),
        metadata(author_label=""),
    ):
        with pytest.raises(ValidationError):
            services.add_document(
                actor=rcp_secretary, patient=patient, content=pending(samples.pdf()), metadata=bad
            )
    assert blob_files(document_dir) == []
    assert not Document.objects.exists() and not StoredBlob.objects.exists()


def test_rejected_content_leaves_nothing(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    for data, name in (
        (b"", "vide.pdf"),
        (b"<html><script>alert(1)</script></html>", "cr.pdf"),
        (samples.pdf()[:-40], "tronque.pdf"),
        (b"PK\x03\x04" + b"\x00" * 100, "archive.pdf"),
    ):
        with pytest.raises(RejectedContent):
            upload = pending(data, name)
            upload.finish()
    assert blob_files(document_dir) == []


def test_outsiders_cannot_add(outsider: User, patient: Patient, document_dir: Path) -> None:
    with pytest.raises(PermissionDenied):
        services.add_document(
            actor=outsider, patient=patient, content=pending(samples.pdf()), metadata=metadata()
        )
    assert blob_files(document_dir) == []
    assert AuditEvent.objects.filter(action="document.added", outcome="denied").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_the_database_refuses_to_delete_or_rewrite(rcp_secretary: User, patient: Patient) -> None:
    document = services.add_document(
        actor=rcp_secretary, patient=patient, content=pending(samples.pdf()), metadata=metadata()
    )
    for attempt in (
        lambda: Document.objects.filter(pk=document.pk).delete(),
        lambda: Document.objects.filter(pk=document.pk).update(title="réécrit"),
        lambda: StoredBlob.objects.filter(pk=document.blob_id).update(sha256="0" * 64),
    ):
        with pytest.raises(Exception, match="never deleted or rewritten"), transaction.atomic():
            attempt()
    # What may change: the status (forward only), the key wrapping.
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.REPLACED)
    with pytest.raises(Exception, match="never deleted or rewritten"), transaction.atomic():
        Document.objects.filter(pk=document.pk).update(status=DocumentStatus.CURRENT)
    StoredBlob.objects.filter(pk=document.blob_id).update(key_id="d1")
    # A blob is protected even without its document (raw SQL, no ORM cascade check).
    with (
        pytest.raises(Exception, match="never deleted or rewritten"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM documents_storedblob WHERE id = %s", [document.blob_id])


def test_versions_are_unique(rcp_secretary: User, patient: Patient) -> None:
    document = services.add_document(
        actor=rcp_secretary, patient=patient, content=pending(samples.pdf()), metadata=metadata()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.create(
            patient=patient,
            set_id=document.set_id,
            version=1,
            type_code=PATHOLOGY,
            title="doublon",
            act_date=document.act_date,
            uploaded_by=rcp_secretary,
            blob=StoredBlob.objects.create(
                store="local",
                key="00/00/00000000-0000-0000-0000-000000000000.blob",
                kind="pdf",
                mime_type="application/pdf",
                size=1,
                sha256="0" * 64,
                file_name="x.pdf",
                segment_size=1,
                nonce_prefix=b"1234567",
                key_id="d1",
                wrapped_key=b"x",
            ),
        )
