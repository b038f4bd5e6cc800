"""The INSEE birth-place table: today's communes, former ones, and countries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dcc.patients import communes


def test_current_communes_and_municipal_arrondissements_are_named() -> None:
    assert communes.commune_name("33063") == "Bordeaux"
    assert communes.commune_name("2A004") == "Ajaccio"
    assert communes.commune_name("2b033") == "Bastia"
    assert communes.commune_name("97411") == "Saint-Denis"
    assert communes.commune_name("75056") == "Paris"
    assert communes.commune_name("75115") == "Paris 15e Arrondissement"


def test_former_communes_and_corsica_before_1976_remain_valid_birth_places() -> None:
    assert communes.commune_name("20004") == "Ajaccio"
    assert communes.is_known_birth_place("20004")
    assert len(communes.past_codes()) > 1000


def test_countries_are_known_by_their_insee_code() -> None:
    assert communes.is_known_birth_place("99352")  # Algérie
    assert communes.is_known_birth_place("99139")  # Portugal
    assert not communes.is_known_birth_place("99999")


def test_unknown_or_malformed_codes_are_refused() -> None:
    for code in ("00000", "2C004", "", "3306", "abcde", "96001"):
        assert not communes.is_known_birth_place(code)


@given(st.sampled_from([c.code for c in communes.current_communes()]))
def test_every_current_commune_is_a_known_birth_place_with_a_consistent_code(code: str) -> None:
    assert communes.is_known_birth_place(code)
    department = code[:3] if code[:2] in ("97", "98") else code[:2]
    assert department.isdigit() or department in ("2A", "2B")
    assert len(code) == 5
