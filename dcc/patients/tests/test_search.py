"""Searching patients: INS, IPP, accent-insensitive name prefix, birth date — visible ones only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from dcc.accounts.models import User
from dcc.patients import search, services
from dcc.patients.choices import CareTeamSource, CaseAccessSource, IdentityStatus, InsKind
from dcc.patients.models import CareTeamMember, CaseAccess, EmergencyAccess, Patient
from dcc.patients.search import search_patients

pytestmark = pytest.mark.django_db


def _identity(name: str, first: str, born: dt.date, **more: Any) -> services.Identity:
    return services.Identity(
        birth_name=name,
        birth_first_names=first,
        sex=more.pop("sex", "M"),
        birth_date=born,
        birth_place_code=more.pop("place", "33063"),
        identity_status=more.pop("status", IdentityStatus.PROVISIONAL),
        **more,
    )


@pytest.fixture
def people(rcp_secretary: User, structures: Any) -> dict[str, Patient]:
    def register(identity: services.Identity, ipp: str) -> Patient:
        return services.register_patient(
            actor=rcp_secretary,
            structure=structures["hospital"],
            identity=identity,
            ipp=ipp,
            despite_possible_duplicates=True,
        )

    return {
        "dupont": register(_identity("Dupont", "Jean", dt.date(1950, 1, 1)), "100"),
        "dupond": register(_identity("Dupond", "Luc", dt.date(1962, 6, 6)), "101"),
        "du pont": register(_identity("Du Pont", "Éric", dt.date(1970, 2, 2)), "102"),
        "durand": register(
            _identity("Durand", "Anne", dt.date(1950, 1, 1), sex="F", used_name="Dupuis"), "103"
        ),
        "qualified": register(
            _identity(
                "Lemaire",
                "Sophie",
                dt.date(1979, 3, 14),
                sex="F",
                place="51215",
                ins_matricule="279035121518989",
                ins_kind=InsKind.TEST,
                status=IdentityStatus.RECOVERED,
            ),
            "104",
        ),
    }


def _names(found: list[Patient]) -> set[str]:
    return {p.birth_name for p in found}


def test_a_name_prefix_finds_every_spelling_ignoring_accents_case_and_spaces(
    rcp_secretary: User, people: dict[str, Patient]
) -> None:
    assert _names(search_patients(rcp_secretary, text="dup")) == {
        "DUPONT",
        "DUPOND",
        "DU PONT",
        "DURAND",
    }
    assert _names(search_patients(rcp_secretary, text="Du pô")) == {"DUPONT", "DUPOND", "DU PONT"}


def test_the_used_name_is_searched_too(rcp_secretary: User, people: dict[str, Patient]) -> None:
    assert _names(search_patients(rcp_secretary, text="dupui")) == {"DURAND"}


def test_birth_date_narrows_the_search(rcp_secretary: User, people: dict[str, Patient]) -> None:
    found = search_patients(rcp_secretary, text="dup", birth_date=dt.date(1950, 1, 1))
    assert _names(found) == {"DUPONT", "DURAND"}


def test_an_ins_or_an_ipp_finds_exactly_one_patient(
    rcp_secretary: User, people: dict[str, Patient]
) -> None:
    assert search_patients(rcp_secretary, text="2 79 03 51 215 189 89") == [people["qualified"]]
    assert search_patients(rcp_secretary, text="101") == [people["dupond"]]


def test_nothing_is_found_outside_what_the_user_may_see(
    outsider: User, people: dict[str, Patient]
) -> None:
    assert search_patients(outsider, text="dup") == []
    assert search_patients(outsider, text="279035121518989") == []


def test_sql_like_or_empty_input_finds_nothing_and_breaks_nothing(
    rcp_secretary: User, people: dict[str, Patient]
) -> None:
    assert search_patients(rcp_secretary, text="") == []
    assert search_patients(rcp_secretary, text="%") == []
    assert search_patients(rcp_secretary, text="' OR 1=1 --") == []


def _keys(found: list[Patient]) -> list[tuple[str, str]]:
    return [(p.birth_name, p.first_birth_first_name) for p in found]


def test_matches_come_by_matched_name_key_then_first_name_once_each(
    rcp_secretary: User, people: dict[str, Patient]
) -> None:
    # DURAND is found by its used name DUPUIS, and only once although both of its names
    # start with DU; DU PONT and DUPONT share a key and are told apart by the first name.
    assert _keys(search_patients(rcp_secretary, text="du")) == [
        ("DUPOND", "Luc"),
        ("DU PONT", "Éric"),
        ("DUPONT", "Jean"),
        ("DURAND", "Anne"),
    ]


def test_pages_are_consecutive_slices_of_that_order(
    rcp_secretary: User, people: dict[str, Patient]
) -> None:
    everything = search_patients(rcp_secretary, text="du")
    pages = [search_patients(rcp_secretary, text="du", limit=2, offset=o) for o in (0, 2, 4)]
    assert pages == [everything[:2], everything[2:4], []]
    assert search_patients(rcp_secretary, text="du", limit=3, offset=1) == everything[1:4]


def test_an_exact_hospital_number_comes_before_name_matches(
    rcp_secretary: User, structures: Any, people: dict[str, Patient]
) -> None:
    zola = services.register_patient(
        actor=rcp_secretary,
        structure=structures["hospital"],
        identity=_identity("Zola", "Émile", dt.date(1940, 4, 2)),
        ipp="DUP",
        despite_possible_duplicates=True,
    )
    found = search_patients(rcp_secretary, text="DUP")
    assert found[0] == zola
    assert _keys(found[1:]) == [
        ("DUPOND", "Luc"),
        ("DU PONT", "Éric"),
        ("DUPONT", "Jean"),
        ("DURAND", "Anne"),
    ]


# The statement is compiled once per user and shape of search and reused: a later search of
# the same shape must still see the visibility of the moment.


def _finds(user: User, patient: Patient) -> bool:
    found = search_patients(user, text="dupon")
    compiled = [s for key, s in search._statements.items() if key[2] == user.pk]
    assert compiled and None not in compiled  # the reused statement, not the ORM fallback
    return patient in found


def test_a_reused_statement_forgets_a_patient_once_the_user_left_the_care_team(
    outsider: User, rcp_secretary: User, people: dict[str, Patient]
) -> None:
    member = CareTeamMember.objects.create(
        patient=people["dupont"], user=outsider, source=CareTeamSource.EXPLICIT
    )
    assert _finds(outsider, people["dupont"])
    member.ended_at = timezone.now()
    member.save()
    assert not _finds(outsider, people["dupont"])


def test_a_reused_statement_forgets_a_patient_once_the_emergency_access_expired(
    outsider: User, people: dict[str, Patient]
) -> None:
    access = EmergencyAccess.objects.create(
        patient=people["dupont"],
        user=outsider,
        reason="Urgence",
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    assert _finds(outsider, people["dupont"])
    access.expires_at = timezone.now() - dt.timedelta(seconds=1)
    access.save()
    assert not _finds(outsider, people["dupont"])


def test_a_reused_statement_forgets_a_patient_once_the_case_access_was_revoked(
    outsider: User, people: dict[str, Patient]
) -> None:
    now = timezone.now()
    access = CaseAccess.objects.create(
        patient=people["dupont"],
        user=outsider,
        source=CaseAccessSource.RCP_MEETING,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1),
    )
    assert _finds(outsider, people["dupont"])
    access.revoked_at = timezone.now()
    access.save()
    assert not _finds(outsider, people["dupont"])


@pytest.fixture
def sharing_hospital(structures: Any) -> Any:
    hospital = structures["hospital"]
    hospital.shares_registered_patients = True
    hospital.save()
    return hospital


def test_a_reused_statement_forgets_a_patient_who_objected_to_sharing(
    oncologist: User, sharing_hospital: Any, people: dict[str, Patient]
) -> None:
    assert _finds(oncologist, people["dupont"])
    Patient.objects.filter(pk=people["dupont"].pk).update(objects_to_sharing=True)
    assert not _finds(oncologist, people["dupont"])
    assert _finds(oncologist, people["du pont"])


def test_a_reused_statement_forgets_the_patients_of_a_structure_that_stopped_sharing(
    oncologist: User, sharing_hospital: Any, people: dict[str, Patient]
) -> None:
    assert _finds(oncologist, people["dupont"])
    sharing_hospital.shares_registered_patients = False
    sharing_hospital.save()
    assert not _finds(oncologist, people["dupont"])
