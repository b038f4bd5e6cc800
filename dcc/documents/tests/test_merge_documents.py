"""Documents follow a merge of two records of the same patient and go back with an unmerge:
every version stays readable from the surviving record, nothing is copied or lost."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from dcc.accounts.models import Structure, User
from dcc.documents import content, services
from dcc.documents.models import Document
from dcc.documents.tests import samples
from dcc.documents.tests.conftest import IDENTITY
from dcc.patients import services as patient_services
from dcc.patients.models import Patient, PatientMerge

pytestmark = pytest.mark.django_db

PATHOLOGY = "60568-3"


def add(actor: User, patient: Patient, text: str) -> Document:
    upload = content.PendingContent(file_name="cr.pdf")
    upload.feed(samples.pdf(text))
    return services.add_document(
        actor=actor,
        patient=patient,
        content=upload,
        metadata=services.Metadata(
            type_code=PATHOLOGY, title=text, act_date=dt.date(2026, 10, 1), author_label="Dr Roux"
        ),
    )


def replace(actor: User, document: Document, text: str) -> Document:
    upload = content.PendingContent(file_name="cr-v2.pdf")
    upload.feed(samples.pdf(text))
    return services.replace_document(
        actor=actor,
        document=document,
        content=upload,
        metadata=services.Metadata(
            type_code=PATHOLOGY, title=text, act_date=dt.date(2026, 10, 2), author_label="Dr Roux"
        ),
        reason="Compte rendu complété",
    )


def titles_on_timeline(client: Any, patient: Patient) -> set[str]:
    response = client.get(reverse("documents:timeline", args=[patient.uuid]))
    assert response.status_code == 200
    return {document.title for document in response.context["documents"]}


def test_documents_follow_the_merge_and_go_back_with_the_unmerge(
    logged_in: Any,
    rcp_secretary: User,
    oncologist: User,
    patient: Patient,
    structures: dict[str, Structure],
) -> None:
    twin = patient_services.register_patient(
        actor=rcp_secretary,
        structure=structures["hospital"],
        identity=dataclasses.replace(IDENTITY, birth_name="Martin-Roux"),
        despite_possible_duplicates=True,
    )
    patient_services.add_to_care_team(actor=rcp_secretary, patient=twin, member=oncologist)
    kept_first = add(rcp_secretary, patient, "Biopsie du dossier gardé")
    moved_first = add(rcp_secretary, twin, "Scanner du doublon")
    moved_second = replace(rcp_secretary, moved_first, "Scanner du doublon, version 2")
    merge = patient_services.merge_patients(
        actor=rcp_secretary, kept=patient, merged=twin, reason="Même patiente, doublon"
    )
    moved = {moved_first.pk, moved_second.pk}
    assert set(Document.objects.filter(patient=patient).values_list("pk", flat=True)) == {
        kept_first.pk,
        *moved,
    }
    assert sorted(PatientMerge.objects.get(pk=merge.pk).moved["documents"]) == sorted(
        [str(moved_first.uuid), str(moved_second.uuid)]
    )
    client = logged_in(oncologist)
    assert titles_on_timeline(client, patient) >= {
        "Biopsie du dossier gardé",
        "Scanner du doublon, version 2",
    }
    # The earlier version stays readable from the surviving record.
    response = client.get(reverse("documents:content", args=[patient.uuid, moved_first.uuid]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.pdf("Scanner du doublon")
    # A document added to the surviving record after the merge stays with it.
    later = add(rcp_secretary, patient, "Consultation après fusion")

    patient_services.unmerge_patients(actor=rcp_secretary, merge=merge)
    assert set(Document.objects.filter(patient=twin).values_list("pk", flat=True)) == moved
    assert set(Document.objects.filter(patient=patient).values_list("pk", flat=True)) == {
        kept_first.pk,
        later.pk,
    }
    assert "Scanner du doublon, version 2" in titles_on_timeline(client, twin)
    assert "Scanner du doublon, version 2" not in titles_on_timeline(client, patient)
    for document in Document.objects.select_related("blob").filter(pk__in=moved):
        assert b"".join(content.open_verified(document.blob)).startswith(b"%PDF")
