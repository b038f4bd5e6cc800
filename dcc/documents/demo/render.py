"""The bytes of a demonstration document: a PDF laid out by WeasyPrint from
``documents/demo/report.html`` (letterhead, identity block, body, signature), or a CDA R2
document whose structured body holds narrative sections, built with lxml.

The CDA documents carry the header a French consumer expects (patient identified by the INS,
author by the IdNatPS, structures by FINESS, LOINC type code and HL7 confidentiality from the
shipped value sets). Their sections have titles and narrative only: no section code, since
none is in the shipped value sets, and no CI-SIS templateId, since they do not claim
conformance to a volet.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from lxml import etree  # type: ignore[import-untyped]
from lxml.builder import ElementMaker  # type: ignore[import-untyped]

from dcc.accounts.identifiers import idnatps
from dcc.accounts.models import Structure, User
from dcc.documents.cda import HL7_V3_NAMESPACE
from dcc.documents.demo.base import DemoDocument, Section
from dcc.interop.terminology import oids, value_sets
from dcc.interop.terminology.value_sets import Concept
from dcc.patients.choices import InsKind
from dcc.patients.communes import commune_name
from dcc.patients.models import Patient

# The CDA R2 model identifier every ClinicalDocument carries.
CDA_TYPE_ID = (oids.HL7_CDA_R2_TYPE_ID, oids.HL7_CDA_R2_TYPE_ID_EXTENSION)

INS_ROOTS = {
    InsKind.NIR: oids.INS_NIR,
    InsKind.NIA: oids.INS_NIA,
    InsKind.TEST: oids.INS_NIR_TEST,
    InsKind.DEMO: oids.INS_NIR_DEMO,
}
SEXES = {"F": "Féminin", "M": "Masculin"}

# Fictitious contact details printed in the letterheads (by demo structure key).
ADDRESSES = {
    "chu": ("1 place de l'Exemple, 33000 Bordeaux", "05 00 00 00 01"),
    "ch": ("12 route de la Démonstration, 33710 Bourg", "05 00 00 00 02"),
    "3c": ("3C Métropole Démo, c/o CHU Démo, 33000 Bordeaux", "05 00 00 00 03"),
    "cabinet": ("24 rue des Exemples, 33000 Bordeaux", "05 00 00 00 04"),
}


@dataclass(frozen=True)
class Person:
    """A signatory: a demo account, or an author without one (``user`` None)."""

    prefix: str
    given: str
    family: str
    role: str
    user: User | None = None

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.prefix, self.given, self.family) if part)

    @classmethod
    def of_user(cls, user: User, role: str) -> Person:
        physician = user.profession_code == "G15_10"  # TRE_G15: médecin
        return cls("Dr" if physician else "", user.first_name, user.last_name.upper(), role, user)

    @classmethod
    def of_label(cls, label: str, role: str) -> Person:
        prefix, given, family = label.split(" ", 2)
        return cls(prefix, given, family, role)


@dataclass(frozen=True)
class Rendering:
    """Everything printed besides the document's own sections."""

    spec: DemoDocument
    patient: Patient  # the person the document concerns
    ipp: str
    structure: Structure
    structure_key: str
    signatory: Person
    act_date: dt.date
    written_date: dt.date
    version_note: str = ""


def ins_text(patient: Patient) -> str:
    """The matricule as printed, grouped like a carte Vitale number."""
    value = patient.ins_matricule
    groups = (value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:])
    return " ".join(groups)


def identity(patient: Patient, ipp: str) -> dict[str, Any]:
    """The identity block of a French clinical document (RNIV): birth traits first, the INS
    only for a qualified identity."""
    civility = "Mme" if patient.sex == "F" else "M."
    born = "née" if patient.sex == "F" else "né"
    if patient.used_name and patient.used_name != patient.birth_name:
        heading = f"{civility} {patient.used_name} {born} {patient.birth_name}"
    else:
        heading = f"{civility} {patient.birth_name}"
    heading += f" {patient.birth_first_names}"
    rows = [
        ("Nom de naissance", patient.birth_name),
        ("Prénom(s) de naissance", patient.birth_first_names),
        ("Premier prénom de naissance", patient.first_birth_first_name),
    ]
    if patient.used_name:
        rows.append(("Nom utilisé", patient.used_name))
    if patient.used_first_name:
        rows.append(("Prénom utilisé", patient.used_first_name))
    place = commune_name(patient.birth_place_code) or ""
    rows += [
        ("Sexe", SEXES.get(patient.sex, patient.sex)),
        ("Date de naissance", f"{patient.birth_date:%d/%m/%Y}"),
        ("Lieu de naissance", f"{place} ({patient.birth_place_code})".strip()),
    ]
    if patient.may_share_ins:
        rows.append(("Matricule INS", f"{ins_text(patient)} ({patient.get_ins_kind_display()})"))
    if ipp:
        rows.append(("IPP", ipp))
    # Two columns, read down then across: birth traits on the left, the rest on the right.
    half = (len(rows) + 1) // 2
    pairs = [(rows[i], rows[i + half] if i + half < len(rows) else None) for i in range(half)]
    return {"heading": heading, "rows": rows, "pairs": pairs}


def _type(code: str) -> Concept:
    concept = value_sets.document_type(code)
    if concept is None:
        raise ValueError(f"demo document type {code} is not in the shipped value set")
    return concept


class PdfUnavailable(Exception):
    """WeasyPrint cannot load the system libraries it draws with (Pango, HarfBuzz)."""


def pdf(rendering: Rendering) -> bytes:
    """The PDF: self-contained HTML, nothing fetched (no URL allowed), system fonts."""
    try:
        import weasyprint  # type: ignore[import-untyped]  # Pango is loaded on import: only here.
    except OSError as error:  # the Python package is there, the system library is not
        raise PdfUnavailable(str(error)) from None

    spec = rendering.spec
    address, phone = ADDRESSES[rendering.structure_key]
    html = render_to_string(
        "documents/demo/report.html",
        {
            "title": spec.title,
            "kind": _type(spec.type_code).display,
            "letterhead": {
                "structure": rendering.structure.name,
                "department": spec.department,
                "address": address,
                "phone": phone,
                "finess": rendering.structure.national_id,
            },
            "identity": identity(rendering.patient, rendering.ipp),
            "act_label": spec.act_label,
            "act_date": rendering.act_date,
            "written_date": rendering.written_date,
            "version_note": rendering.version_note,
            "sections": spec.sections,
            "signature": {
                "name": rendering.signatory.name,
                "role": rendering.signatory.role,
                "rpps": rendering.signatory.user.rpps if rendering.signatory.user else "",
            },
            "patient_signature": spec.patient_signature,
        },
    )
    document = weasyprint.HTML(
        string=html, url_fetcher=weasyprint.URLFetcher(allowed_protocols=frozenset())
    )
    data: bytes = document.write_pdf()
    return data


# --- CDA ---------------------------------------------------------------------------------------

E: Any = ElementMaker(namespace=HL7_V3_NAMESPACE, nsmap={None: HL7_V3_NAMESPACE})


def _timestamp(day: dt.date, hour: int = 10) -> str:
    moment = dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_default_timezone())
    return moment.strftime("%Y%m%d%H%M%S%z")


def _name(person: Person) -> Any:
    parts = [E.prefix(person.prefix)] if person.prefix else []
    return E.name(*parts, E.given(person.given), E.family(person.family))


def _organisation(tag: str, structure: Structure) -> Any:
    # IdNatStruct: "1" + FINESS (the prefix of a FINESS number, see accounts.choices).
    return E(
        tag,
        E.id(root=oids.IDNATSTRUCT, extension=f"1{structure.national_id}"),
        E.name(structure.name),
    )


def _person_id(person: Person) -> Any:
    if person.user is not None and person.user.rpps:
        return E.id(root=oids.IDNATPS, extension=idnatps(person.user.rpps))
    return E.id(nullFlavor="UNK")


def _specialty(person: Person) -> list[Any]:
    if person.user is None:
        return []
    code = person.user.specialty_code or person.user.profession_code
    concepts = {c.code: c for c in (*value_sets.specialties(), *value_sets.professions())}
    concept = concepts.get(code)
    if concept is None:
        return []
    return [E.code(code=concept.code, codeSystem=concept.system, displayName=concept.display)]


def _record_target(patient: Patient) -> Any:
    role = E.patientRole()
    if patient.may_share_ins:
        role.append(
            E.id(root=INS_ROOTS[InsKind(patient.ins_kind)], extension=patient.ins_matricule)
        )
    name = E.name(
        E.family(patient.birth_name, qualifier="BR"),
        E.given(patient.birth_first_names),
        E.given(patient.first_birth_first_name, qualifier="BR"),
    )
    if patient.used_name:
        name.append(E.family(patient.used_name, qualifier="CL"))
    person = E.patient(name, E.birthTime(value=f"{patient.birth_date:%Y%m%d}"), classCode="PSN")
    place = commune_name(patient.birth_place_code)
    address = E.addr(E.county(patient.birth_place_code))
    if place:
        address.append(E.city(place))
    person.append(E.birthplace(E.place(address)))
    role.append(person)
    return E.recordTarget(role)


def _narrative(section: Section) -> Any:
    text = E.text()
    for paragraph in section.paragraphs:
        text.append(E.paragraph(paragraph))
    table = section.table
    if table is not None:
        body = E.tbody()
        for row in table.rows:
            cells = [
                (E.th if index == 0 and not table.head else E.td)(cell)
                for index, cell in enumerate(row)
            ]
            body.append(E.tr(*cells))
        element = E.table(body, border="1", width="100%")
        if table.head:
            element.insert(0, E.thead(E.tr(*(E.th(cell) for cell in table.head))))
        text.append(element)
    if section.items:
        text.append(E.list(*(E.item(item) for item in section.items), listType="unordered"))
    return E.section(E.title(section.title), text)


def cda(rendering: Rendering) -> bytes:
    """A CDA R2 document with a structured body of narrative sections."""
    spec = rendering.spec
    concept = _type(spec.type_code)
    confidentiality = next(
        c for c in value_sets.confidentiality_codes() if c.code == spec.confidentiality
    )
    written = _timestamp(rendering.written_date)
    signatory = rendering.signatory
    document = E.ClinicalDocument(
        E.realmCode(code="FR"),
        E.typeId(root=CDA_TYPE_ID[0], extension=CDA_TYPE_ID[1]),
        E.id(root=str(uuid.uuid4())),
        E.code(
            code=concept.code,
            codeSystem=concept.system,
            displayName=concept.display,
        ),
        E.title(spec.title),
        E.effectiveTime(value=written),
        E.confidentialityCode(
            code=confidentiality.code,
            codeSystem=confidentiality.system,
            displayName=confidentiality.display,
        ),
        E.languageCode(code="fr-FR"),
        E.setId(root=str(uuid.uuid4())),
        E.versionNumber(value=str(spec.version)),
        _record_target(rendering.patient),
        E.author(
            E.time(value=written),
            E.assignedAuthor(
                _person_id(signatory),
                *_specialty(signatory),
                E.assignedPerson(_name(signatory)),
                _organisation("representedOrganization", rendering.structure),
            ),
        ),
        E.custodian(
            E.assignedCustodian(
                _organisation("representedCustodianOrganization", rendering.structure)
            )
        ),
        E.legalAuthenticator(
            E.time(value=written),
            E.signatureCode(code="S"),
            E.assignedEntity(_person_id(signatory), E.assignedPerson(_name(signatory))),
        ),
        E.documentationOf(
            E.serviceEvent(E.effectiveTime(E.low(value=f"{rendering.act_date:%Y%m%d}")))
        ),
        E.component(
            E.structuredBody(*(E.component(_narrative(section)) for section in spec.sections))
        ),
    )
    body: bytes = etree.tostring(document, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
