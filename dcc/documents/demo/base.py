"""The vocabulary of the demonstration documents: what a document says (sections of
paragraphs, a table, a list) and how it is filed (author, structure, dates counted back from
the day of seeding, version, cancellation).

Document type codes are the LOINC typeCodes of the shipped value set (JDV_J07), checked when a
document is rendered (``render``) and again by the document services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dcc.documents.choices import Confidentiality
from dcc.interop.terminology import value_sets

ONCOLOGIST = "oncologue@demo.dcc"
SURGEON = "chirurgien@demo.dcc"
NURSE = "ide@demo.dcc"
GP = "generaliste@demo.dcc"


def _offered(code: str) -> str:
    """A typeCode among those offered for an oncology record (JDV_J07, checked by a test of
    the terminology), so that the demo never files a type the upload form would not offer."""
    if code not in value_sets.ONCOLOGY_DOCUMENT_TYPES:
        raise ValueError(f"{code} is not an oncology document type of the shipped value set")
    return code


IMAGING = _offered("18748-4")
PATHOLOGY = _offered("60568-3")
MOLECULAR = _offered("51969-4")
CONSULTATION = _offered("11488-4")
RCP = _offered("34794-8")
OPERATIVE = _offered("34874-8")
TREATMENT_PLAN = _offered("77604-7")
LABORATORY = _offered("11502-2")
CONSENT = _offered("59284-0")
REFERRAL = _offered("96349-6")

# Authors who have no account in the demo: their reports are filed by a professional who does.
RADIOLOGIST = "Dr Paul GIRARD"
PATHOLOGIST = "Dr Sophie LAMBERT"
GYNAECOLOGIST = "Dr Hélène FABRE"
NUCLEAR = "Dr Camille ROBIN"
GENETICIST = "Dr Nicolas FAURE"
BIOLOGIST = "Dr Julien MOREL"

IMAGING_DEPARTMENT = "Service d'imagerie médicale"
PATHOLOGY_DEPARTMENT = "Service d'anatomie et de cytologie pathologiques"
ONCOLOGY_DEPARTMENT = "Service d'oncologie médicale"


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[str, ...], ...]
    head: tuple[str, ...] = ()  # without a head, the first cell of each row is its label


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    items: tuple[str, ...] = ()


def section(
    title: str,
    *paragraphs: str,
    rows: tuple[tuple[str, ...], ...] = (),
    head: tuple[str, ...] = (),
    items: tuple[str, ...] = (),
) -> Section:
    return Section(title, paragraphs, Table(rows, head) if rows else None, items)


@dataclass(frozen=True)
class DemoDocument:
    """One version of a demonstration document and how it is filed."""

    title: str  # with ``version``, identifies the document in the patient's record
    type_code: str
    act_days_ago: int
    department: str
    signature_role: str
    sections: tuple[Section, ...]
    file_name: str
    author: str = ""  # a demo account (e-mail), or
    author_label: str = ""  # the printed name of an author without an account
    filed_by: str = ""  # the demo account who adds it (default: the author)
    structure: str = "chu"  # key of the demo structure (accounts.demo.STRUCTURES)
    written_days_ago: int | None = None  # the report's date, when later than the act
    cda: bool = False
    confidentiality: str = Confidentiality.NORMAL
    version: int = 1
    reason: str = ""  # why version ``version`` replaces the previous one
    cancelled_by: str = ""
    cancel_reason: str = ""
    about: str = ""  # IPP of the patient the document really concerns (filed by mistake)
    act_label: str = "Date de l'examen"
    patient_signature: bool = False

    @property
    def uploader(self) -> str:
        return self.filed_by or self.author


class Dates:
    """Days before the seeding, as dates and as printed in a report."""

    def __init__(self, today: dt.date) -> None:
        self.today = today

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def __call__(self, days_ago: int) -> str:
        return f"{self.day(days_ago):%d/%m/%Y}"
