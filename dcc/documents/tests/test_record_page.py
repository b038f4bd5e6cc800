"""The patient record page lists the documents in a fixed number of statements (G1: ≤ 8,
the same for 20 and 200 documents), and its single access event says how many it listed."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dcc.accounts.models import User
from dcc.audit.models import AuditEvent
from dcc.documents.choices import Confidentiality
from dcc.documents.models import Document, StoredBlob
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db
STATEMENT_BUDGET = 8


def _add_rows(
    patient: Patient, uploader: User, count: int, title: str = "Compte rendu", **fields: Any
) -> None:
    """Document rows for a listing (their content is never read here)."""
    blobs = StoredBlob.objects.bulk_create(
        StoredBlob(
            store="local",
            key=f"{(u := uuid.uuid4()).hex[:2]}/{u.hex[2:4]}/{u}.blob",
            kind="pdf",
            mime_type="application/pdf",
            size=1,
            sha256=uuid.uuid4().hex * 2,
            file_name="cr.pdf",
            segment_size=1 << 20,
            nonce_prefix=b"1234567",
            key_id="d1",
            wrapped_key=b"x",
        )
        for _ in range(count)
    )
    Document.objects.bulk_create(
        Document(
            patient=patient,
            set_id=uuid.uuid4(),
            type_code="60568-3",
            title=f"{title} {n}",
            act_date=dt.date(2026, 1, 1) + dt.timedelta(days=n % 300),
            uploaded_by=uploader,
            blob=blob,
            **{"author": uploader, **fields},
        )
        for n, blob in enumerate(blobs)
    )


def _statements(client: Any, patient: Patient) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("patients:record", args=[patient.uuid]))
    assert response.status_code == 200
    return len(captured), response


def test_the_record_page_statements_do_not_grow_with_the_documents(
    logged_in: Any, rcp_secretary: User, patient: Patient, settings: Any
) -> None:
    # Sealing off the request, as in production (the test settings seal in the request).
    settings.AUDIT_SEAL_MODE = "worker"
    client = logged_in(rcp_secretary)
    client.get(reverse("patients:record", args=[patient.uuid]))  # session settles
    _add_rows(patient, rcp_secretary, 20)
    twenty, first = _statements(client, patient)
    _add_rows(patient, rcp_secretary, 180)
    two_hundred, second = _statements(client, patient)
    assert twenty == two_hundred <= STATEMENT_BUDGET, (twenty, two_hundred)
    assert first.content.count(b"Compte rendu ") >= 20
    assert second.content.count(b"Compte rendu ") >= 200
    event = AuditEvent.objects.filter(action="patient.viewed").order_by("-id").first()
    assert event is not None and json.loads(event.details)["documents_listed"] == 200


def test_very_restricted_documents_are_listed_to_the_close_team_only(
    logged_in: Any, rcp_secretary: User, oncologist: User, patient: Patient, structures: Any
) -> None:
    from dcc.accounts.models import Structure

    _add_rows(patient, rcp_secretary, 1, "Secret", confidentiality=Confidentiality.VERY_RESTRICTED)
    _add_rows(patient, rcp_secretary, 1)
    # The oncologist sees the patient as a colleague of a sharing structure, not through the
    # care team: the very restricted document is not listed to them.
    from dcc.patients.models import CareTeamMember

    CareTeamMember.objects.filter(patient=patient, user=oncologist).delete()
    Structure.objects.filter(pk=structures["hospital"].pk).update(shares_registered_patients=True)
    page = logged_in(oncologist).get(reverse("patients:record", args=[patient.uuid]))
    assert page.status_code == 200
    assert b"Secret" not in page.content and b"Compte rendu 0" in page.content


def test_the_record_page_rows_link_each_document_and_escape_what_was_typed(
    logged_in: Any, rcp_secretary: User, patient: Patient
) -> None:
    _add_rows(
        patient,
        rcp_secretary,
        1,
        title='<script>alert("x")</script> & CR',
        author=None,
        author_label="Dr <b>Roux</b>",
    )
    document = Document.objects.get()
    page = logged_in(rcp_secretary).get(reverse("patients:record", args=[patient.uuid]))
    html = page.content.decode()
    link = reverse("documents:detail", args=[patient.uuid, document.uuid])
    assert (
        f'<a href="{link}">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; CR 0</a>' in html
    )
    assert "<td>01/01/2026</td>" in html
    assert "<td>Dr &lt;b&gt;Roux&lt;/b&gt;</td>" in html
    assert "<script>alert" not in html
    # The type's display name from the shipped value set, never the bare code.
    from django.utils.html import escape

    from dcc.interop.terminology import value_sets

    concept = value_sets.document_type("60568-3")
    assert concept is not None and f"<td>{escape(concept.display)}</td>" in html
    assert 'class="status">v' not in html
