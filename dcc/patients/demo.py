"""Demonstration patients: a handful of fictitious people with valid demonstration INS, a
care team, a GP, one look-alike pair for identity vigilance, and a patient who objected to
sharing. Created by ``dcc seed_demo`` (demo and development modes only); idempotent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from dcc.accounts.models import Structure, User
from dcc.patients import ins, services
from dcc.patients.choices import IdentityEvidence, IdentityStatus, InsKind
from dcc.patients.models import CareTeamMember, Patient


@dataclass(frozen=True)
class DemoPatient:
    birth_name: str
    first_names: str
    sex: str
    birth_date: dt.date
    birth_place: str
    ipp: str
    serial: str = ""  # order number in the NIR; empty = no INS (provisional identity)
    used_name: str = ""
    objects: bool = False


def _matricule(patient: DemoPatient) -> str:
    body = (
        ("2" if patient.sex == "F" else "1")
        + f"{patient.birth_date:%y%m}"
        + patient.birth_place
        + patient.serial
    )
    return f"{body}{ins.ins_key(body):02d}"


PATIENTS = [
    DemoPatient("LEFÈVRE", "Odile Marie", "F", dt.date(1951, 3, 9), "33063", "CHU-100001", "012"),
    DemoPatient("DUPONT", "Jean Pierre", "M", dt.date(1948, 11, 2), "69123", "CHU-100002", "145"),
    DemoPatient(
        "DU PONT", "Anne", "F", dt.date(1962, 6, 30), "2A004", "CHU-100003", "031", "MARTIN"
    ),
    DemoPatient("N'DIAYE", "Aminata", "F", dt.date(1970, 1, 15), "99341", "CHU-100004", "077"),
    DemoPatient("GARNIER", "Louis", "M", dt.date(1944, 9, 12), "69123", "CHU-100005", "208"),
    # The same person as Lefèvre, typed from memory at another visit: no INS, accent lost.
    DemoPatient("LEFEVRE", "Odile", "F", dt.date(1951, 3, 9), "33063", "CHU-100006"),
    DemoPatient(
        "ROUSSEAU", "Claire", "F", dt.date(1958, 4, 21), "75056", "CHU-100007", "099", objects=True
    ),
]


def seed_patients(structures: dict[str, Structure]) -> list[Patient]:
    """Register the demo patients at the demo CHU (which shares its registered patients with
    its clinical staff), by the oncologist, with the demo GP as médecin traitant."""
    oncologist = User.objects.get(email="oncologue@demo.dcc")
    gp = User.objects.get(email="generaliste@demo.dcc")
    nurse = User.objects.get(email="ide@demo.dcc")
    chu = structures["chu"]
    Structure.objects.filter(pk=chu.pk).update(shares_registered_patients=True)
    created: list[Patient] = []
    with transaction.atomic():
        for person in PATIENTS:
            existing = Patient.objects.filter(
                identifiers__structure=chu, identifiers__value=person.ipp
            )
            if existing.exists():
                continue
            qualified = bool(person.serial)
            patient = services.register_patient(
                actor=oncologist,
                structure=chu,
                ipp=person.ipp,
                despite_possible_duplicates=True,
                identity=services.Identity(
                    birth_name=person.birth_name,
                    birth_first_names=person.first_names,
                    sex=person.sex,
                    birth_date=person.birth_date,
                    birth_place_code=person.birth_place,
                    used_name=person.used_name,
                    ins_matricule=_matricule(person) if qualified else "",
                    ins_kind=InsKind.DEMO if qualified else "",
                    identity_status=(
                        IdentityStatus.QUALIFIED if qualified else IdentityStatus.PROVISIONAL
                    ),
                    identity_evidence=IdentityEvidence.ID_CARD if qualified else "",
                ),
            )
            Patient.objects.filter(pk=patient.pk).update(
                general_practitioner=gp, objects_to_sharing=person.objects
            )
            if not CareTeamMember.objects.filter(patient=patient, user=nurse).exists():
                services.add_to_care_team(actor=oncologist, patient=patient, member=nurse)
            created.append(patient)
    return created
