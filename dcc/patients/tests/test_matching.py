"""Identity vigilance: keys, birth-date typos and candidate duplicates."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcc.patients import matching, services
from dcc.patients.choices import IdentityStatus
from dcc.patients.models import Patient

PROVISIONAL = services.Identity(
    birth_name="Dupont",
    birth_first_names="Marie-Louise Anne",
    sex="F",
    birth_date=dt.date(1951, 7, 3),
    birth_place_code="75056",
    identity_status=IdentityStatus.PROVISIONAL,
)


def test_name_keys_ignore_accents_case_spaces_hyphens_and_apostrophes() -> None:
    assert matching.name_key("Du Pont") == matching.name_key("dupont") == "DUPONT"
    assert matching.name_key("Lefèvre-D'Estaing") == "LEFEVREDESTAING"
    assert matching.first_name_key("Marie-Louise Anne") == "MARIELOUISE"
    assert matching.name_key("Œuvray") == "ŒUVRAY"


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_every_birth_date_is_among_its_own_variants_and_typos_are_close(date: dt.date) -> None:
    variants = matching.birth_date_variants(date)
    assert date in variants
    for other in variants:
        same_parts = sum(
            [other.year == date.year, other.month == date.month, other.day == date.day]
        )
        assert same_parts >= 2 or (other.day, other.month) == (date.month, date.day)


def test_day_and_month_swapped_and_one_wrong_digit_are_typos() -> None:
    variants = matching.birth_date_variants(dt.date(1951, 7, 3))
    assert {
        dt.date(1951, 3, 7),
        dt.date(1951, 7, 8),
        dt.date(1961, 7, 3),
        dt.date(1951, 1, 3),
    } <= variants
    assert dt.date(1952, 8, 3) not in variants


def _register(user: Any, structure: Any, identity: services.Identity) -> Patient:
    return services.register_patient(
        actor=user, structure=structure, identity=identity, despite_possible_duplicates=True
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"birth_name": "DU PONT"},
        {"birth_name": "dupont", "birth_date": dt.date(1951, 3, 7)},
        {"birth_date": dt.date(1951, 7, 8)},
        {"birth_name": "Martin", "used_name": "Dupont"},  # married name given as birth name
    ],
)
def test_a_near_identical_identity_is_flagged_before_saving(
    rcp_secretary: Any, structures: Any, changes: dict[str, Any]
) -> None:
    first = _register(rcp_secretary, structures["hospital"], PROVISIONAL)
    twin = dataclasses.replace(PROVISIONAL, **changes)
    if "used_name" in changes:
        # The first record carries the married name as used name, the new one as birth name.
        first.used_name_key = matching.name_key("Martin")
        first.save(update_fields=["used_name_key"])
    with pytest.raises(services.PossibleDuplicate) as warned:
        services.register_patient(
            actor=rcp_secretary, structure=structures["hospital"], identity=twin
        )
    assert [p.pk for p in warned.value.candidates] == [first.pk]
    assert Patient.objects.count() == 1


@pytest.mark.django_db
def test_different_people_are_not_flagged(rcp_secretary: Any, structures: Any) -> None:
    _register(rcp_secretary, structures["hospital"], PROVISIONAL)
    other = dataclasses.replace(PROVISIONAL, birth_name="Durand", birth_date=dt.date(1960, 1, 20))
    services.register_patient(actor=rcp_secretary, structure=structures["hospital"], identity=other)
    assert Patient.objects.count() == 2


@pytest.mark.django_db
def test_merged_aliases_are_not_candidates(rcp_secretary: Any, structures: Any) -> None:
    kept = _register(rcp_secretary, structures["hospital"], PROVISIONAL)
    alias = _register(rcp_secretary, structures["hospital"], PROVISIONAL)
    Patient.objects.filter(pk=alias.pk).update(merged_into=kept)
    found = matching.candidate_duplicates(
        ins_matricule="",
        birth_name="Dupont",
        birth_first_names="Marie",
        used_name="",
        birth_date=PROVISIONAL.birth_date,
    )
    assert found == [kept]
