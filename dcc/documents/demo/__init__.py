"""Demonstration documents: the reports, letters and plans of the demo patients' care.

``seed_documents`` (called by ``dcc seed_demo`` once the demo accounts and patients exist) files
what ``records`` describes: generated PDFs and CDA R2 documents, each through the documents
services exactly as an upload would go (inspected, encrypted, audited, the care team
notified), acting as the demo professional who files it. One report is then completed by a
second version, and one document filed in the wrong record is cancelled. Running it again adds
nothing: a document is identified in its patient's record by its title and version.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dcc.accounts.choices import StructureIdType
from dcc.accounts.demo import ACCOUNTS, STRUCTURES
from dcc.accounts.models import Structure, User
from dcc.documents import permissions, services
from dcc.documents.choices import DocumentStatus
from dcc.documents.content import PendingContent
from dcc.documents.demo import render
from dcc.documents.demo.base import ONCOLOGIST, Dates, DemoDocument
from dcc.documents.demo.records import RECORDS
from dcc.documents.inspection import Kind
from dcc.documents.models import Document
from dcc.patients import services as patient_services
from dcc.patients.models import Patient, PatientIdentifier

__all__ = ["pdf_available", "seed_documents"]


class _Seeder:
    def __init__(self, today: dt.date) -> None:
        self.dates = Dates(today)
        self.structures = {
            key: Structure.objects.get(national_id_type=StructureIdType.FINESS, national_id=finess)
            for key, _name, _kind, finess, _parent in STRUCTURES
        }
        self.users = {
            user.email: user
            for user in User.objects.filter(email__in=[account.email for account in ACCOUNTS])
        }
        self.patients = {
            identifier.value: identifier.patient
            for identifier in PatientIdentifier.objects.filter(
                structure=self.structures["chu"], patient__merged_into__isnull=True
            ).select_related("patient")
        }
        self.added: list[Document] = []

    def seed(self) -> list[Document]:
        for ipp, build in RECORDS.items():
            patient = self.patients.get(ipp)
            if patient is None:
                continue
            specs = build(self.dates)
            for spec in specs:
                self.file(patient, spec, specs)
        return self.added

    def file(self, patient: Patient, spec: DemoDocument, specs: list[DemoDocument]) -> None:
        found = Document.objects.filter(
            patient=patient, title=spec.title, version=spec.version
        ).first()
        if found is None:
            found = self.write(patient, spec, specs)
            if found is None:
                return
            self.added.append(found)
        if spec.cancel_reason and found.status == DocumentStatus.CURRENT:
            services.cancel_document(
                actor=self.users[spec.cancelled_by], document=found, reason=spec.cancel_reason
            )

    def write(
        self, patient: Patient, spec: DemoDocument, specs: list[DemoDocument]
    ) -> Document | None:
        previous: Document | None = None
        version_note = ""
        if spec.version > 1:
            previous = Document.objects.filter(
                patient=patient, title=spec.title, version=spec.version - 1
            ).first()
            if previous is None or previous.status != DocumentStatus.CURRENT:
                return None  # changed by someone in the meantime: leave it as it is
            earlier = next(
                s for s in specs if s.title == spec.title and s.version == spec.version - 1
            )
            version_note = (
                f"Version {spec.version}, qui annule et remplace la version {earlier.version} "
                f"du {self.dates(earlier.written_days_ago or earlier.act_days_ago)}. "
                f"Motif : {spec.reason}"
            )
        uploader = self.users[spec.uploader]
        author = self.users[spec.author] if spec.author else None
        self.join_care_team(patient, uploader)
        if author is not None:
            signatory = render.Person.of_user(author, spec.signature_role)
            author_label = ""
        else:
            signatory = render.Person.of_label(spec.author_label, spec.signature_role)
            role = spec.signature_role
            author_label = f"{spec.author_label}, {role[:1].lower()}{role[1:]}"
        about = self.patients[spec.about] if spec.about else patient
        rendering = render.Rendering(
            spec=spec,
            patient=about,
            ipp=next(ipp for ipp, someone in self.patients.items() if someone.pk == about.pk),
            structure=self.structures[spec.structure],
            structure_key=spec.structure,
            signatory=signatory,
            act_date=self.dates.day(spec.act_days_ago),
            written_date=self.dates.day(spec.written_days_ago or spec.act_days_ago),
            version_note=version_note,
        )
        try:
            data = render.cda(rendering) if spec.cda else render.pdf(rendering)
        except render.PdfUnavailable:
            return None  # a machine without Pango: the demo runs without these PDFs
        content = PendingContent(
            file_name=spec.file_name, declared=Kind.CDA if spec.cda else Kind.PDF
        )
        content.feed(data)
        metadata = services.Metadata(
            type_code=spec.type_code,
            title=spec.title,
            act_date=rendering.act_date,
            author=author,
            author_label=author_label,
            structure=rendering.structure,
            confidentiality=spec.confidentiality,
        )
        if previous is not None:
            return services.replace_document(
                actor=uploader,
                document=previous,
                content=content,
                metadata=metadata,
                reason=spec.reason,
            )
        return services.add_document(
            actor=uploader, patient=patient, content=content, metadata=metadata
        )

    def join_care_team(self, patient: Patient, user: User) -> None:
        """A professional from another structure (the surgeon) files their own report once
        the oncologist has brought them into the care team, as the record asks."""
        if not permissions.can_write_documents(user, patient):
            patient_services.add_to_care_team(
                actor=self.users[ONCOLOGIST], patient=patient, member=user
            )


def seed_documents(*, today: dt.date | None = None) -> list[Document]:
    """File the demonstration documents not yet in the demo patients' records (the demo
    accounts and patients must exist); return the versions added.

    On a machine where WeasyPrint cannot load Pango (``pdf_available()`` is false), the PDFs
    are left out, with the versions and cancellations that build on them."""
    return _Seeder(today or timezone.localdate()).seed()


def pdf_available() -> bool:
    """Whether this machine can draw the demo PDFs (WeasyPrint finds Pango and HarfBuzz)."""
    try:
        import weasyprint  # type: ignore[import-untyped]  # noqa: F401
    except OSError:
        return False
    return True
