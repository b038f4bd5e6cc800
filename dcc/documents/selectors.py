"""Reading a patient's documents: only through a ``PatientAccess`` (the patient visibility
path), filtered by each document's confidentiality.

- **Normal** (N): everyone who may see the patient.
- **Restricted** (R): those caring for the patient and emergency access — not the read-only
  footing of an RCP participant's case access.
- **Very restricted** (V): the uploader, the author, the patient's explicit care team and GP.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404

from dcc.accounts.models import User
from dcc.core.compiled import INTEGER, CompiledQuery
from dcc.documents.choices import Confidentiality, DocumentStatus
from dcc.documents.models import Document
from dcc.patients.access import PatientAccess
from dcc.patients.models import CareTeamMember
from dcc.patients.timeline import TimelineSection


def _may_read_restricted(access: PatientAccess) -> bool:
    return not access.read_only or access.emergency is not None


def _readable(access: PatientAccess) -> Q:
    return _readable_by(access.user, restricted=_may_read_restricted(access))


def _readable_by(user: User, *, restricted: bool) -> Q:
    allowed = Q(confidentiality=Confidentiality.NORMAL)
    if restricted:
        allowed |= Q(confidentiality=Confidentiality.RESTRICTED)
    close: Q = (
        Q(uploaded_by=user)
        | Q(author=user)
        | Q(patient__general_practitioner=user)
        | Q(
            Exists(
                CareTeamMember.objects.filter(
                    patient=OuterRef("patient"), user=user, ended_at__isnull=True
                )
            )
        )
    )
    return allowed | (Q(confidentiality=Confidentiality.VERY_RESTRICTED) & close)


def documents_of(access: PatientAccess) -> QuerySet[Document]:
    """Every version of the patient's documents the user may read."""
    return Document.objects.filter(_readable(access), patient=access.patient)


@dataclass(frozen=True)
class Filters:
    type_code: str = ""
    author: UUID | None = None
    structure: UUID | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    include_cancelled: bool = False

    def as_details(self) -> dict[str, str]:
        return {
            name: str(value)
            for name, value in (
                ("type", self.type_code),
                ("author", self.author),
                ("structure", self.structure),
                ("since", self.since),
                ("until", self.until),
                ("cancelled", self.include_cancelled or ""),
            )
            if value
        }


def timeline(access: PatientAccess, filters: Filters = Filters()) -> QuerySet[Document]:
    """The record's documents, one line per document (its latest version unless cancelled
    ones are asked for), newest act first."""
    statuses = [DocumentStatus.CURRENT]
    if filters.include_cancelled:
        statuses.append(DocumentStatus.CANCELLED)
    found = documents_of(access).filter(status__in=statuses)
    if filters.type_code:
        found = found.filter(type_code=filters.type_code)
    if filters.author is not None:
        found = found.filter(author__uuid=filters.author)
    if filters.structure is not None:
        found = found.filter(structure__uuid=filters.structure)
    if filters.since is not None:
        found = found.filter(act_date__gte=filters.since)
    if filters.until is not None:
        found = found.filter(act_date__lte=filters.until)
    return found.select_related("author", "structure", "blob").order_by("-act_date", "-id")


def document_for(access: PatientAccess, document: UUID) -> Document:
    """One version of one of the patient's documents, or 404 (not the patient's, not
    readable, not existing: the same answer)."""
    found = (
        documents_of(access)
        .filter(uuid=document)
        .select_related("author", "structure", "blob", "uploaded_by", "cancelled_by")
        .first()
    )
    if found is None:
        raise Http404
    return found


def versions_of(access: PatientAccess, document: Document) -> list[Document]:
    return list(
        documents_of(access)
        .filter(set_id=document.set_id)
        .select_related("author", "uploaded_by", "cancelled_by", "blob")
        .order_by("-version")
    )


# The record page's list: the latest documents in one compiled statement (two shapes: with or
# without the restricted ones), the same number of statements whatever their number.
RECORD_DOCUMENTS = 300


class RecordDocument(NamedTuple):
    """One line of the record page's document table."""

    uuid: UUID
    version: int
    type_code: str
    title: str
    act_date: dt.date
    author_label: str
    author_first_name: str | None
    author_last_name: str | None


def _record_documents(patient: int, user: int, *, restricted: bool) -> QuerySet[Document]:
    return (
        Document.objects.filter(
            _readable_by(User(pk=user), restricted=restricted),
            patient_id=patient,
            status=DocumentStatus.CURRENT,
        )
        # The author's name as two columns, not a User instance per row.
        .annotate(
            author_first_name=F("author__first_name"), author_last_name=F("author__last_name")
        )
        .only(*RecordDocument._fields[:-2])
        .order_by("-act_date", "-id")[:RECORD_DOCUMENTS]
    )


_RECORD_DOCUMENTS = {
    restricted: CompiledQuery(
        functools.partial(_record_documents, restricted=restricted),
        patient=INTEGER,
        user=INTEGER,
    )
    for restricted in (True, False)
}


def record_documents(access: PatientAccess) -> list[RecordDocument]:
    """The latest documents of the record as plain rows (no model instance per row: the list
    runs to 300 on a page opened all day long)."""
    query = _RECORD_DOCUMENTS[_may_read_restricted(access)]
    found = query.values(RecordDocument._fields, patient=access.patient.pk, user=access.user.pk)
    return [RecordDocument._make(row) for row in found]


def record_section(access: PatientAccess) -> TimelineSection:
    documents = record_documents(access)
    return TimelineSection(
        template="documents/partials/record_section.html",
        context={
            "documents": documents,
            "more": len(documents) >= RECORD_DOCUMENTS,
            "may_add": not access.read_only,
        },
        audit={"documents_listed": len(documents)},
    )
