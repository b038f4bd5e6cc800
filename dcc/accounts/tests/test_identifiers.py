"""RPPS, IdNatPS, FINESS and SIRET check keys."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from dcc.accounts.identifiers import (
    idnatps,
    is_valid_finess,
    is_valid_rpps,
    is_valid_siret,
    rpps_from_idnatps,
)


def test_known_identifiers_are_accepted() -> None:
    assert is_valid_rpps("01234567897")  # the CI-SIS examples' IdNatPS 801234567897
    assert is_valid_finess("750712184")
    assert is_valid_siret("73282932000074")


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_every_rpps_with_its_key_is_valid_and_a_changed_digit_is_not(body: str) -> None:
    rpps = body + luhn.calc_check_digit(body)
    assert is_valid_rpps(rpps)
    assert rpps_from_idnatps(idnatps(rpps)) == rpps
    wrong_key = str((int(rpps[-1]) + 1) % 10)
    assert not is_valid_rpps(rpps[:-1] + wrong_key)


def test_malformed_rpps_are_refused() -> None:
    for value in ["", "1234567890", "123456789012", "1000010000A", " 10000100007"]:
        assert not is_valid_rpps(value)
    assert rpps_from_idnatps("010000100007") is None  # ADELI-based id, not RPPS


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_every_finess_with_its_key_is_valid_and_a_changed_key_is_not(body: str) -> None:
    finess = body + luhn.calc_check_digit(body)
    assert is_valid_finess(finess)
    assert not is_valid_finess(finess[:-1] + str((int(finess[-1]) + 1) % 10))


def test_malformed_finess_are_refused() -> None:
    for value in ["", "75071218", "7507121840", "ABCDEFGHI", "2C0000000"]:
        assert not is_valid_finess(value)
