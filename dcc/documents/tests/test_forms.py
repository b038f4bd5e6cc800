"""The document forms as the browser gets them: date inputs carry ISO dates whatever the
page's language (an <input type="date"> ignores "02/11/2026" and would come back empty); the
author is one of the care team (or the user), the structure one of the user's."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from dcc.accounts.models import Charter, CharterAcceptance, Structure, User
from dcc.core.tests.test_access_matrix import persona_client
from dcc.documents import content, services
from dcc.documents.models import Document
from dcc.documents.tests import samples
from dcc.patients.models import CareTeamMember, Patient

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


def _options(page: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.DOTALL)
    assert select is not None, name
    return [
        (value, html.unescape(label))
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select[0])
    ]


def _post(client: Any, patient: Patient, **fields: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    values = {
        "type_code": "60568-3",
        "title": "CR anatomopathologique",
        "act_date": "2026-11-02",
        "author_label": "",
        "confidentiality": "N",
        "file": SimpleUploadedFile("cr.pdf", samples.pdf(str(fields)), "application/pdf"),
        **fields,
    }
    return client.post(reverse("documents:add", args=[patient.uuid]), values)


def test_the_author_and_the_structure_are_chosen_among_the_offered_ones_only(
    charter: Charter,
    rcp_secretary: User,
    oncologist: User,
    outsider: User,
    patient: Patient,
    structures: dict[str, Structure],
) -> None:
    CharterAcceptance.objects.get_or_create(user=rcp_secretary, charter=charter)
    client = persona_client(rcp_secretary)
    page = client.get(reverse("documents:add", args=[patient.uuid])).content.decode()
    # The care team and the user as authors, the user's structures: nobody and nothing else.
    assert _options(page, "author") == [
        ("", "— Auteur hors DCC (à préciser ci-dessous) —"),
        (str(rcp_secretary.pk), str(rcp_secretary)),
        (str(oncologist.pk), str(oncologist)),
    ]
    assert f'<option value="{rcp_secretary.pk}" selected>' in page
    assert _options(page, "structure") == [
        ("", "---------"),
        (str(structures["hospital"].pk), structures["hospital"].name),
    ]
    for refused in (
        {"author": str(outsider.pk)},
        {"author": "not a key"},
        {"author": str(oncologist.pk), "structure": str(structures["other"].pk)},
    ):
        response = _post(client, patient, **refused)
        assert response.status_code == 400, refused
        assert "Sélectionnez un choix valide" in response.content.decode(), refused
    assert not Document.objects.exists()
    response = _post(
        client, patient, author=str(oncologist.pk), structure=str(structures["hospital"].pk)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    document = Document.objects.get()
    assert (document.author, document.structure) == (oncologist, structures["hospital"])


def test_a_member_who_left_the_team_is_no_longer_an_author(
    charter: Charter, rcp_secretary: User, oncologist: User, patient: Patient
) -> None:
    CareTeamMember.objects.filter(patient=patient, user=oncologist).update(ended_at=timezone.now())
    CharterAcceptance.objects.get_or_create(user=rcp_secretary, charter=charter)
    response = _post(persona_client(rcp_secretary), patient, author=str(oncologist.pk))
    assert response.status_code == 400
    assert not Document.objects.exists()
