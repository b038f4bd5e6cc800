"""The synthetic population: reproducible, valid INS, vigilance keys as matching computes them,
near-duplicates that identity vigilance finds, and never mixed with real patients."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st

from dcc.audit.choices import Action
from dcc.audit.models import AuditEvent
from dcc.patients import communes, ins, matching, services, synth
from dcc.patients.choices import CareTeamSource, IdentityStatus, InsKind
from dcc.patients.models import (
    CareTeamMember,
    Patient,
    PatientIdentifier,
    PatientIdentityVersion,
)


def test_the_same_seed_gives_the_same_people_and_another_seed_others() -> None:
    first = list(synth.generate_population(300, seed=3))
    assert first == list(synth.generate_population(300, seed=3))
    assert first != list(synth.generate_population(300, seed=4))


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_every_ins_is_valid_and_agrees_with_the_traits(seed: int) -> None:
    for person in synth.generate_population(200, seed=seed):
        assert communes.is_known_birth_place(person.birth_place_code)
        if not person.ins_matricule:
            assert person.ins_kind == ""
            assert person.identity_status not in (
                IdentityStatus.RECOVERED,
                IdentityStatus.QUALIFIED,
            )
            continue
        assert ins.check_matricule(person.ins_matricule) == person.ins_matricule
        traits = ins.Traits(
            sex="F" if person.sex == "F" else "M",
            birth_date=person.birth_date,
            birth_place_code=person.birth_place_code,
        )
        assert ins.check_traits_consistency(person.ins_matricule, traits) == []
        assert person.ins_kind in (InsKind.DEMO, InsKind.NIA)


def test_corsicans_born_before_1976_carry_departement_20_in_their_ins() -> None:
    corsicans = [
        p
        for p in synth.generate_population(20_000, seed=1)
        if p.ins_matricule and p.birth_place_code[:2] in ("2A", "2B")
    ]
    assert corsicans
    for person in corsicans:
        expected = "20" if person.birth_date.year < 1976 else person.birth_place_code[:2]
        assert person.ins_matricule[5:7] == expected


def test_names_are_normalised_and_keyed_exactly_as_registration_does() -> None:
    people = list(synth.generate_population(2000, seed=5))
    for person in people:
        assert person.birth_name == " ".join(person.birth_name.split()).upper()
        assert person.birth_name_key == matching.name_key(person.birth_name)
        assert person.used_name_key == matching.name_key(person.used_name)
        assert person.first_name_key == matching.first_name_key(person.birth_first_names)
        assert person.first_birth_first_name == person.birth_first_names.split(" ")[0]
    names = {p.birth_name for p in people}
    assert any(" " in name for name in names)  # particles: LE GOFF, DU PONT…
    assert any(c in "".join(names) for c in "ÉÈÊÏË")
    assert any("-" in p.birth_first_names for p in people)  # Jean-Pierre…
    statuses = {p.identity_status for p in people}
    assert statuses == set(IdentityStatus.values)


@pytest.mark.django_db
def test_the_loaded_population_is_what_registration_writes(settings: Any) -> None:
    report = synth.load_population(400, seed=11)

    assert Patient.objects.count() == 400
    people = list(synth.generate_population(400, seed=11))
    by_uuid = {p.uuid: p for p in Patient.objects.all()}
    for person in people:
        patient = by_uuid[person.uuid]
        assert patient.ins_matricule == person.ins_matricule
        assert patient.birth_date == person.birth_date
        version = PatientIdentityVersion.objects.get(patient=patient)
        assert version.version == 1 and version.reason == "Enregistrement"
        assert version.identity == person.identity()
        assert version.identity == services._snapshot(patient)
    assert PatientIdentifier.objects.count() == sum(len(p.registrations) for p in people)
    assert CareTeamMember.objects.filter(source=CareTeamSource.REGISTRATION).count() == len(people)
    events = AuditEvent.objects.filter(action=Action.PATIENT_REGISTERED)
    assert events.count() == 1
    assert json.loads(events.get().details)["patients"] == 400
    assert len(report.physicians) == 2 * len(report.structures)
    assert report.structures[0].shares_registered_patients


@pytest.mark.django_db
def test_near_duplicates_are_found_by_identity_vigilance() -> None:
    synth.load_population(3000, seed=2)
    people = list(synth.generate_population(3000, seed=2))
    duplicates = [p for p in people if p.duplicate_of >= 0]
    assert 20 <= len(duplicates) <= 120  # about 2 %
    for duplicate in duplicates:
        original = people[duplicate.duplicate_of]
        assert duplicate.ins_matricule == ""
        assert duplicate.identity_status == IdentityStatus.PROVISIONAL
        found = matching.candidate_duplicates(
            ins_matricule="",
            birth_name=duplicate.birth_name,
            birth_first_names=duplicate.birth_first_names,
            used_name=duplicate.used_name,
            birth_date=duplicate.birth_date,
            exclude=Patient.objects.get(uuid=duplicate.uuid),
        )
        assert original.uuid in {p.uuid for p in found}, (duplicate, original)


@pytest.mark.django_db
def test_it_refuses_production_mode_real_patients_and_a_seed_loaded_twice(
    settings: Any, rcp_secretary: Any, structures: Any
) -> None:
    settings.PRODUCTION = True
    with pytest.raises(synth.SynthRefused, match="production"):
        synth.load_population(10, seed=1)
    with pytest.raises(CommandError, match="production"):
        call_command("synth", patients=10, seed=1)
    settings.PRODUCTION = False

    services.register_patient(
        actor=rcp_secretary,
        structure=structures["hospital"],
        identity=services.Identity(
            birth_name="Réel",
            birth_first_names="Patient",
            sex="F",
            birth_date=dt.date(1960, 1, 1),
            birth_place_code="33063",
        ),
    )
    with pytest.raises(synth.SynthRefused, match="patients réels"):
        synth.load_population(10, seed=1)

    synth.load_population(10, seed=1, force=True)
    assert Patient.objects.count() == 11
    with pytest.raises(synth.SynthRefused, match="déjà chargée"):
        synth.load_population(10, seed=1, force=True)


@pytest.mark.django_db
def test_the_command_loads_and_reports() -> None:
    from io import StringIO

    out = StringIO()
    call_command("synth", patients=50, seed=9, stdout=out, stderr=StringIO())
    assert "50 patients synthétiques chargés" in out.getvalue()
    assert Patient.objects.count() == 50


@pytest.mark.django_db
def test_search_on_a_synthetic_region_answers_exactly_like_the_orm_query() -> None:
    from django.utils import timezone

    from dcc.patients import search
    from dcc.patients.choices import CaseAccessSource
    from dcc.patients.models import CaseAccess, EmergencyAccess

    report = synth.load_population(1500, seed=21)
    user = report.physicians[0]
    now = timezone.now()
    outsiders = list(Patient.objects.order_by("-pk").values_list("pk", flat=True)[:2])
    CaseAccess.objects.create(
        patient_id=outsiders[0],
        user=user,
        source=CaseAccessSource.RCP_MEETING,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=1),
    )
    EmergencyAccess.objects.create(
        patient_id=outsiders[1], user=user, reason="Test", expires_at=now + dt.timedelta(hours=4)
    )
    people = Patient.objects.order_by("pk")[::37]
    texts: list[tuple[str, dt.date | None]] = []
    for patient in people:
        texts += [
            (patient.birth_name[:3].lower(), None),
            (patient.birth_name, patient.birth_date),
            (patient.ins_matricule, None),
            ("", patient.birth_date),
        ]
    ipps = PatientIdentifier.objects.exclude(value="").values_list("value", flat=True)[:20]
    texts += [(ipp, None) for ipp in ipps]
    for text, born in texts:
        if not text and born is None:
            continue
        for offset in (0, 5):
            expected = list(
                search._query(user, search._Terms.of(text, born), search.SEARCH_LIMIT, offset)
            )
            found = search.search_patients(user, text=text, birth_date=born, offset=offset)
            assert [p.pk for p in found] == [p.pk for p in expected], (text, born, offset)
    assert search.search_patients(user, text=Patient.objects.get(pk=outsiders[1]).birth_name)
