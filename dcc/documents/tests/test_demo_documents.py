"""The demonstration documents: filed in the demo patients' records through the document
services, readable through the verified path, accepted by the inspection, the CDA ones rendered;
a report completed by a second version, a misfiled one cancelled; nothing added twice."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dcc.accounts import demo as accounts_demo
from dcc.accounts.models import Charter, CharterAcceptance, Structure, User
from dcc.audit.models import AuditEvent
from dcc.audit.verify import verify_chain
from dcc.core.tests.test_access_matrix import persona_client
from dcc.documents import cda
from dcc.documents.choices import Confidentiality, DocumentStatus
from dcc.documents.content import open_verified
from dcc.documents.demo import records, render, seed_documents
from dcc.documents.inspection import inspect_bytes
from dcc.documents.models import Document, StoredBlob
from dcc.interop.terminology import oids, value_sets
from dcc.notifications.models import Notification
from dcc.patients.models import CareTeamMember, Patient, PatientIdentifier

pytestmark = pytest.mark.django_db

ONCOLOGIST = "oncologue@demo.dcc"
SURGEON = "chirurgien@demo.dcc"
NURSE = "ide@demo.dcc"
GP = "generaliste@demo.dcc"

# What each record holds: (typeCode, version, status), in no particular order.
EXPECTED = {
    "CHU-100001": [  # Mme LEFÈVRE: breast cancer
        ("18748-4", 1, DocumentStatus.CURRENT),
        ("60568-3", 1, DocumentStatus.REPLACED),
        ("60568-3", 2, DocumentStatus.CURRENT),
        ("34794-8", 1, DocumentStatus.CURRENT),
        ("11488-4", 1, DocumentStatus.CURRENT),
        ("34874-8", 1, DocumentStatus.CURRENT),
        ("60568-3", 1, DocumentStatus.CURRENT),
    ],
    "CHU-100002": [  # M. DUPONT: colon cancer, and a neighbour's report filed by mistake
        ("60568-3", 1, DocumentStatus.CURRENT),
        ("18748-4", 1, DocumentStatus.CURRENT),
        ("34874-8", 1, DocumentStatus.CURRENT),
        ("60568-3", 1, DocumentStatus.CURRENT),
        ("51969-4", 1, DocumentStatus.CURRENT),
        ("11502-2", 1, DocumentStatus.CURRENT),
        ("59284-0", 1, DocumentStatus.CURRENT),
        ("77604-7", 1, DocumentStatus.CURRENT),
        ("11488-4", 1, DocumentStatus.CANCELLED),
    ],
    "CHU-100003": [  # Mme DU PONT: endometrial cancer
        ("18748-4", 1, DocumentStatus.CURRENT),
        ("11488-4", 1, DocumentStatus.CURRENT),
    ],
    "CHU-100004": [  # Mme N'DIAYE: cervical cancer
        ("18748-4", 1, DocumentStatus.CURRENT),
        ("11488-4", 1, DocumentStatus.CURRENT),
        ("11488-4", 1, DocumentStatus.CURRENT),
    ],
    "CHU-100005": [  # M. GARNIER: prostate cancer
        ("96349-6", 1, DocumentStatus.CURRENT),
        ("60568-3", 1, DocumentStatus.CURRENT),
    ],
    "CHU-100006": [],  # the provisional duplicate of Mme LEFÈVRE
    "CHU-100007": [  # Mme ROUSSEAU, who objected to sharing: melanoma follow-up
        ("11488-4", 1, DocumentStatus.CURRENT),
    ],
}
CDA_TITLES = {
    "Mammographie et échographie mammaires bilatérales",
    "Fiche RCP — sénologie — 3C Métropole Démo",
    "Bilan biologique avant chimiothérapie (dont uracilémie)",
}


@pytest.fixture(scope="module")
def rendered_once() -> Iterator[None]:
    """Each PDF is laid out once for the module (WeasyPrint takes a few tenths of a second a
    page): later tests get the same bytes for the same document, into a fresh database."""
    made: dict[tuple[str, str, int], bytes] = {}
    real = render.pdf

    def pdf(rendering: render.Rendering) -> bytes:
        key = (rendering.ipp, rendering.spec.title, rendering.spec.version)
        if key not in made:
            made[key] = real(rendering)
        return made[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "pdf", pdf)
        yield


@pytest.fixture
def seeded(rendered_once: None, document_dir: Path) -> list[Document]:
    accounts_demo.seed()
    return seed_documents()


def user(email: str) -> User:
    return User.objects.get(email=email)


def patient(ipp: str) -> Patient:
    return PatientIdentifier.objects.get(value=ipp).patient


def data(document: Document) -> bytes:
    return b"".join(open_verified(document.blob))


def test_each_demo_record_receives_its_documents(seeded: list[Document]) -> None:
    assert len(seeded) == sum(len(expected) for expected in EXPECTED.values())
    for ipp, expected in EXPECTED.items():
        found = Document.objects.filter(patient=patient(ipp))
        assert Counter((d.type_code, d.version, d.status) for d in found) == Counter(expected), ipp
    types = {concept.code for concept in value_sets.document_types()}
    today = timezone.localdate()
    for document in Document.objects.all():
        assert document.type_code in types
        assert document.class_code
        assert today - dt.timedelta(days=365) < document.act_date < today
        assert document.author is not None or document.author_label.startswith("Dr ")
        assert document.structure is not None
    assert Document.objects.filter(blob__kind="cda").count() == len(CDA_TITLES)
    assert set(Document.objects.filter(blob__kind="cda").values_list("title", flat=True)) == (
        CDA_TITLES
    )


def test_demo_documents_are_authored_and_filed_by_the_demo_professionals(
    seeded: list[Document],
) -> None:
    structures = {s.national_id: s for s in Structure.objects.all()}
    chu, ch, cabinet = structures["330000035"], structures["330000043"], structures["330000050"]
    by_author = Counter(
        Document.objects.filter(author__isnull=False).values_list("author__email", "structure_id")
    )
    assert by_author[(ONCOLOGIST, chu.pk)] >= 5
    assert by_author[(SURGEON, ch.pk)] == 1
    assert by_author[(GP, cabinet.pk)] == 1
    assert by_author[(NURSE, chu.pk)] == 1
    # Reports by authors without an account are filed by someone caring for the patient.
    for document in Document.objects.filter(author__isnull=True):
        assert document.uploaded_by.email in {ONCOLOGIST, NURSE}
    # The surgeon from the other hospital joined M. DUPONT's care team to file his report.
    surgeon = user(SURGEON)
    assert list(
        CareTeamMember.objects.filter(user=surgeon).values_list("patient__birth_name", flat=True)
    ) == ["DUPONT"]
    restricted = Document.objects.get(confidentiality=Confidentiality.RESTRICTED)
    assert (restricted.patient.birth_name, restricted.author) == ("N'DIAYE", user(NURSE))
    assert not Document.objects.filter(confidentiality=Confidentiality.VERY_RESTRICTED).exists()


def test_every_demo_document_reads_back_verified_and_passes_the_inspection(
    seeded: list[Document],
) -> None:
    for document in Document.objects.select_related("blob"):
        content = data(document)
        verdict = inspect_bytes(content)
        assert verdict.kind == document.blob.kind, document.title
        assert verdict.flags == (), document.title
        assert document.blob.file_name.endswith(".xml" if verdict.kind == "cda" else ".pdf")
        if verdict.kind == "pdf":
            assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")


def test_the_demo_cda_documents_describe_their_patient_and_render(
    seeded: list[Document],
) -> None:
    for document in Document.objects.filter(blob__kind="cda"):
        content = data(document)
        assert content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument')
        summary = cda.summarise(content)
        assert (summary.title, summary.type_code) == (document.title, document.type_code)
        assert summary.type_system == value_sets.document_type(document.type_code).system  # type: ignore[union-attr]
        assert summary.confidentiality == document.confidentiality
        assert summary.version == 1 and summary.non_xml_body is None
        person = document.patient
        assert summary.patient_ids == (f"{oids.INS_NIR_DEMO}^{person.ins_matricule}",)
        html = cda.render_html(content)
        assert document.title in html
        assert "cda-section" in html and "<table>" in html
        assert person.birth_name in html


def test_a_cda_document_shows_its_narrative_on_the_document_page(
    seeded: list[Document],
) -> None:
    oncologist = user(ONCOLOGIST)
    CharterAcceptance.objects.get_or_create(user=oncologist, charter=Charter.objects.get())
    document = Document.objects.get(title="Fiche RCP — sénologie — 3C Métropole Démo")
    response = persona_client(oncologist).get(
        reverse(
            "documents:detail",
            kwargs={"uuid": document.patient.uuid, "document": document.uuid},
        )
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Description de la tumeur" in page and "Proposition de la RCP" in page
    assert "Tumorectomie du sein gauche" in page


def test_a_pathology_report_is_completed_by_a_second_version_with_its_reason(
    seeded: list[Document],
) -> None:
    first, second = Document.objects.filter(
        patient=patient("CHU-100001"), title__startswith="CR anatomopathologique — microbiopsies"
    ).order_by("version")
    assert (first.status, second.status) == (DocumentStatus.REPLACED, DocumentStatus.CURRENT)
    assert second.previous == first and second.set_id == first.set_id
    assert "hybridation in situ" in second.version_reason
    assert first.act_date == second.act_date and first.blob.sha256 != second.blob.sha256
    event = AuditEvent.objects.get(action="document.replaced")
    assert event.resource_id == str(second.uuid)


def test_a_report_filed_in_the_wrong_record_is_cancelled_and_kept(
    seeded: list[Document],
) -> None:
    title = records.DU_PONT_CONSULTATION
    misfiled = Document.objects.get(patient=patient("CHU-100002"), title=title)
    assert misfiled.status == DocumentStatus.CANCELLED
    assert misfiled.cancelled_by == user(ONCOLOGIST)
    assert "autre patient" in misfiled.cancel_reason
    assert data(misfiled)  # still readable: nothing is deleted
    rightful = Document.objects.get(patient=patient("CHU-100003"), title=title)
    assert rightful.status == DocumentStatus.CURRENT
    event = AuditEvent.objects.get(action="document.cancelled")
    assert json.loads(event.details)["reason"] == misfiled.cancel_reason


def test_the_care_team_is_notified_of_the_demo_documents(seeded: list[Document]) -> None:
    added = AuditEvent.objects.filter(action="document.added").count()
    assert added == len(seeded) - 1  # the second version is traced as a replacement
    recipients = set(
        Notification.objects.filter(kind="document_added").values_list(
            "recipient__email", flat=True
        )
    )
    assert {NURSE, GP, ONCOLOGIST} <= recipients


def test_seeding_the_demo_again_adds_nothing(
    seeded: list[Document], document_dir: Path, capsys: Any
) -> None:
    def counts() -> tuple[int, int, int]:
        files = sum(1 for path in document_dir.rglob("*") if path.is_file())
        return Document.objects.count(), StoredBlob.objects.count(), files

    before = counts()
    assert seed_documents() == []
    call_command("seed_demo")
    assert counts() == before
    assert "Documents de démonstration" not in capsys.readouterr().out
    assert verify_chain().ok


def test_seed_demo_files_the_documents_after_the_patients(
    rendered_once: None, document_dir: Path, capsys: Any
) -> None:
    call_command("seed_demo")
    total = sum(len(expected) for expected in EXPECTED.values())
    assert Document.objects.count() == total
    assert f"Documents de démonstration ajoutés : {total}" in capsys.readouterr().out


def test_the_demo_pdf_layout_prints_the_identity_and_says_it_is_fictitious(
    seeded: list[Document],
) -> None:
    person = patient("CHU-100002")
    html = render_to_string(
        "documents/demo/report.html",
        {
            "title": "Titre",
            "identity": render.identity(person, "CHU-100002"),
            "sections": [],
            "act_date": dt.date(2026, 1, 2),
            "written_date": dt.date(2026, 1, 2),
        },
    )
    assert "Document fictif de démonstration" in html
    assert "M. DUPONT Jean Pierre" in html and "02/11/1948" in html
    assert render.ins_text(person) in html and "INS-NIR de démonstration" in html
    assert "CHU-100002" in html


def test_without_pango_the_demo_files_its_cda_documents_only(
    monkeypatch: pytest.MonkeyPatch, document_dir: Path
) -> None:
    def no_pango(rendering: render.Rendering) -> bytes:
        raise render.PdfUnavailable("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(render, "pdf", no_pango)
    accounts_demo.seed()
    added = seed_documents()
    assert added
    assert {document.blob.kind for document in added} == {"cda"}
