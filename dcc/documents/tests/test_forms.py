"""The document forms as the browser gets them: date inputs carry ISO dates whatever the
page's language (an <input type="date"> ignores "02/11/2026" and would come back empty)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from dcc.accounts.models import Charter, CharterAcceptance, User
from dcc.core.tests.test_access_matrix import persona_client
from dcc.documents import content, services
from dcc.documents.tests import samples
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_new_version_form_starts_from_the_act_date_in_iso_form(
    language: str, charter: Charter, rcp_secretary: User, patient: Patient
) -> None:
    upload = content.PendingContent(file_name="cr.pdf")
    upload.feed(samples.pdf("Biopsie"))
    document = services.add_document(
        actor=rcp_secretary,
        patient=patient,
        content=upload,
        metadata=services.Metadata(
            type_code="60568-3",
            title="CR anatomopathologique",
            act_date=dt.date(2026, 11, 2),
            author_label="Dr Anne Roux",
        ),
    )
    CharterAcceptance.objects.get_or_create(user=rcp_secretary, charter=charter)
    client = persona_client(rcp_secretary)
    with translation.override(language):
        client.cookies["django_language"] = language
        page = client.get(
            reverse("documents:replace", args=[patient.uuid, document.uuid])
        ).content.decode()
    assert 'value="2026-11-02"' in page
    assert "02/11/2026" not in page and "11/02/2026" not in page
    timeline = client.get(
        reverse("documents:timeline", args=[patient.uuid]), {"since": "2026-10-01"}
    ).content.decode()
    assert 'value="2026-10-01"' in timeline
