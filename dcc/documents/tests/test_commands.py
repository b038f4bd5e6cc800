"""``dcc documents_scrub`` and ``dcc documents_rewrap``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from dcc.accounts.models import User
from dcc.audit.models import AuditEvent
from dcc.documents import content, services
from dcc.documents.models import StoredBlob
from dcc.documents.tests import samples
from dcc.documents.tests.test_services import metadata, pending
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db


def run(name: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, stdout=out, stderr=err)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_the_scrub_finds_altered_missing_and_orphan_blobs(
    rcp_secretary: User, patient: Patient, document_dir: Path
) -> None:
    documents = [
        services.add_document(
            actor=rcp_secretary,
            patient=patient,
            content=pending(samples.pdf(f"document {n}")),
            metadata=metadata(title=f"Document {n}"),
        )
        for n in range(3)
    ]
    code, out, _ = run("documents_scrub")
    assert code == 0 and "3 contenus vérifiés" in out and "0 altérés" in out

    altered = document_dir / documents[0].blob.key
    raw = bytearray(altered.read_bytes())
    raw[20] ^= 0x40
    altered.write_bytes(bytes(raw))
    (document_dir / documents[1].blob.key).rename(document_dir / "moved-away")
    orphan = content.PendingContent(file_name="x.pdf")
    orphan.feed(samples.pdf("orphelin"))
    orphan.commit()  # a crash before the row was written
    interrupted = content.PendingContent(file_name="y.pdf")
    interrupted.feed(samples.pdf("interrompu"))  # the process dies before commit

    code, out, err = run("documents_scrub")
    assert code == 1
    assert f"ALTÉRÉ : contenu {documents[0].blob.uuid}" in err
    assert f"MANQUANT : contenu {documents[1].blob.uuid}" in err
    assert orphan.key in out
    assert "écriture interrompue" in out
    event = AuditEvent.objects.filter(action="document.scrubbed").order_by("-id").first()
    assert event is not None and event.outcome == "failure"
    interrupted.abort()


def test_rewrap_moves_every_key_to_the_new_master_key(
    rcp_secretary: User, patient: Patient, settings: Any
) -> None:
    documents = [
        services.add_document(
            actor=rcp_secretary,
            patient=patient,
            content=pending(samples.pdf(f"document {n}")),
            metadata=metadata(title=f"Document {n}"),
        )
        for n in range(2)
    ]
    old_id = settings.DOCUMENT_KEY_ID
    settings.DOCUMENT_KEYS = {
        **settings.DOCUMENT_KEYS,
        "d2": b"the-next-master-key-" + b"z" * 32,
    }
    settings.DOCUMENT_KEY_ID = "d2"
    before = {b.pk: bytes(b.wrapped_key) for b in StoredBlob.objects.all()}
    code, out, _ = run("documents_rewrap")
    assert code == 0 and "2 clés" in out
    assert set(StoredBlob.objects.values_list("key_id", flat=True)) == {"d2"}
    # The old master key is gone: every document still opens.
    settings.DOCUMENT_KEYS = {"d2": settings.DOCUMENT_KEYS["d2"]}
    for document in documents:
        blob = StoredBlob.objects.get(pk=document.blob_id)
        assert bytes(blob.wrapped_key) != before[blob.pk]
        assert b"document" in b"".join(content.open_verified(blob))
    assert run("documents_rewrap")[1].startswith("0 clés")
    assert old_id != "d2"
