"""Searching patients: INS, IPP, accent-insensitive name prefix, birth date — visible ones only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dcc.accounts.models import User
from dcc.patients import services
from dcc.patients.choices import IdentityStatus, InsKind
from dcc.patients.models import Patient
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
