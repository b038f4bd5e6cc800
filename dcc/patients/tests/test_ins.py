"""INS matricule: format, check key and consistency with the identity traits."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.fr import nir

from dcc.patients.ins import (
    InsError,
    Traits,
    check_matricule,
    check_traits_consistency,
    ins_key,
    normalise_matricule,
)

ANS_TEST_MATRICULE = "279035121518989"

DIGITS = "0123456789"


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=DIGITS, min_size=size, max_size=size)


# Any 2 characters a département can take in a matricule, Corsica included.
departments = st.one_of(_digits(2), st.sampled_from(["2A", "2B"]))

bodies = st.builds(
    lambda sex, year_month, department, rest: sex + year_month + department + rest,
    st.sampled_from("123478"),
    _digits(4),
    departments,
    _digits(6),
)

# INSEE codes of birth places: metropolitan communes (Corsica included), overseas communes
# (three-digit département) and countries (99xxx).
metropolitan_departments = st.sampled_from(
    [f"{number:02d}" for number in range(1, 96) if number != 20] + ["2A", "2B"]
)
birth_places = st.one_of(
    st.builds(
        lambda department, commune: department + commune, metropolitan_departments, _digits(3)
    ),
    st.builds(
        lambda department, commune: department + commune,
        st.sampled_from(["971", "972", "973", "974", "976", "987", "988"]),
        _digits(2),
    ),
    st.builds(lambda country: "99" + country, _digits(3)),
)

traits = st.builds(
    Traits,
    sex=st.sampled_from(["M", "F"]),
    birth_date=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2099, 12, 31)),
    birth_place_code=birth_places,
)


def _with_key(body: str) -> str:
    return f"{body}{ins_key(body):02d}"


def _matricule_for(traits: Traits, order: str, month: str | None = None) -> str:
    """A matricule built the way the registry builds it from these traits."""
    sex_digit = {"M": "1", "F": "2"}[traits.sex]
    year = f"{traits.birth_date.year % 100:02d}"
    month = month or f"{traits.birth_date.month:02d}"
    return _with_key(sex_digit + year + month + traits.birth_place_code + order)


def _place_group(insee_code: str) -> str:
    if insee_code[:2] in {"97", "98"}:
        return insee_code[:3]
    if insee_code[:2] in {"2A", "2B"}:
        return "Corsica"
    return insee_code[:2]


def _codes(errors: list[InsError]) -> list[str]:
    return [error.code for error in errors]


def test_the_ans_test_matricule_is_valid_with_key_89() -> None:
    assert ins_key(ANS_TEST_MATRICULE[:13]) == 89
    assert check_matricule(ANS_TEST_MATRICULE) == ANS_TEST_MATRICULE


def test_corsican_matricules_count_2a_as_19_and_2b_as_18() -> None:
    # The examples documented by python-stdnum.
    assert check_matricule("253072B07300470") == "253072B07300470"
    assert check_matricule("253072a07300443") == "253072A07300443"
    assert ins_key("2530719073004") == ins_key("253072A073004")
    assert ins_key("2530718073004") == ins_key("253072B073004")


def test_a_body_that_is_a_multiple_of_97_has_key_97_not_00() -> None:
    assert ins_key("1850374999919") == 97
    assert check_matricule("185037499991997") == "185037499991997"
    with pytest.raises(InsError):
        check_matricule("185037499991900")


@given(bodies)
def test_every_body_with_its_key_is_valid(body: str) -> None:
    matricule = _with_key(body)
    assert check_matricule(matricule) == matricule
    assert 1 <= ins_key(body) <= 97
    assert f"{ins_key(body):02d}" == nir.calc_check_digits(matricule)


@given(bodies, st.data())
def test_a_matricule_with_any_one_character_changed_is_refused(
    body: str, data: st.DataObject
) -> None:
    matricule = _with_key(body)
    position = data.draw(st.integers(min_value=0, max_value=14), label="position")
    if matricule[position] in "AB":
        replacements = [letter for letter in "AB" if letter != matricule[position]] + list(DIGITS)
    else:
        replacements = [digit for digit in DIGITS if digit != matricule[position]]
    replacement = data.draw(st.sampled_from(replacements), label="replacement")
    changed = matricule[:position] + replacement + matricule[position + 1 :]
    with pytest.raises(InsError) as raised:
        check_matricule(changed)
    assert raised.value.code in {"format", "key"}
    if position >= 13:
        assert raised.value.code == "key"


@given(bodies, st.integers(min_value=0, max_value=99))
def test_a_matricule_with_another_key_is_refused(body: str, key: int) -> None:
    assume(key != ins_key(body))
    with pytest.raises(InsError) as raised:
        check_matricule(f"{body}{key:02d}")
    assert raised.value.code == "key"


def test_spaces_dots_and_dashes_are_ignored_and_letters_upper_cased() -> None:
    assert normalise_matricule(" 2 79 03.51-215 189 89 ") == ANS_TEST_MATRICULE
    assert check_matricule("2 79 03 51 215 189 89") == ANS_TEST_MATRICULE
    assert check_matricule("2.79.03.51.215.189.89") == ANS_TEST_MATRICULE
    assert check_matricule("2 53 07 2b 073 004 70") == "253072B07300470"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "format"),
        ("27903512151898", "format"),  # 14 characters
        ("2790351215189890", "format"),  # 16 characters
        ("27903512151898A", "format"),
        ("2790351215X8989", "format"),
        ("579035121518989", "format"),  # no matricule starts with 5
        ("279032C21518989", "format"),  # only 2A and 2B for Corsica
        ("2790351215189+9", "format"),
        ("279035121518900", "key"),
        ("279035121518998", "key"),
        ("279035121518999", "key"),
        ("279035121518988", "key"),
    ],
)
def test_malformed_matricules_are_refused(value: str, code: str) -> None:
    with pytest.raises(InsError) as raised:
        check_matricule(value)
    assert raised.value.code == code
    assert raised.value.message  # a French explanation for the user


def test_ins_key_refuses_anything_but_a_13_character_body() -> None:
    for value in ["", "279035121518", "27903512151898", "279032C215189", "27903 5121518"]:
        with pytest.raises(InsError):
            ins_key(value)


@given(traits, _digits(3))
def test_traits_the_matricule_was_built_from_are_consistent(person: Traits, order: str) -> None:
    assert check_traits_consistency(_matricule_for(person, order), person) == []


def test_the_ans_test_matricule_is_consistent_with_its_traits() -> None:
    person = Traits(sex="F", birth_date=datetime.date(1979, 3, 1), birth_place_code="51215")
    assert check_traits_consistency(ANS_TEST_MATRICULE, person) == []


@given(traits, _digits(3))
def test_a_wrong_sex_gives_exactly_a_sex_error(person: Traits, order: str) -> None:
    matricule = _matricule_for(person, order)
    other = Traits("F" if person.sex == "M" else "M", person.birth_date, person.birth_place_code)
    assert _codes(check_traits_consistency(matricule, other)) == ["sex"]


@given(traits, _digits(3), st.integers(min_value=1, max_value=99))
def test_a_wrong_birth_year_gives_exactly_a_year_error(
    person: Traits, order: str, years: int
) -> None:
    matricule = _matricule_for(person, order)
    birth_date = person.birth_date.replace(
        year=person.birth_date.year + years, day=min(person.birth_date.day, 28)
    )
    other = Traits(person.sex, birth_date, person.birth_place_code)
    assert _codes(check_traits_consistency(matricule, other)) == ["birth_year"]


@given(traits, _digits(3), st.integers(min_value=1, max_value=12))
def test_a_wrong_birth_month_gives_exactly_a_month_error(
    person: Traits, order: str, month: int
) -> None:
    assume(month != person.birth_date.month)
    matricule = _matricule_for(person, order)
    other = Traits(
        person.sex,
        person.birth_date.replace(month=month, day=min(person.birth_date.day, 28)),
        person.birth_place_code,
    )
    assert _codes(check_traits_consistency(matricule, other)) == ["birth_month"]


@given(traits, _digits(3), birth_places)
def test_a_wrong_birth_place_gives_exactly_a_place_error(
    person: Traits, order: str, place: str
) -> None:
    assume(_place_group(place) != _place_group(person.birth_place_code))
    matricule = _matricule_for(person, order)
    other = Traits(person.sex, person.birth_date, place)
    assert _codes(check_traits_consistency(matricule, other)) == ["birth_place"]


def test_every_mismatch_is_reported_at_once() -> None:
    person = Traits(sex="M", birth_date=datetime.date(1980, 4, 1), birth_place_code="75056")
    assert _codes(check_traits_consistency(ANS_TEST_MATRICULE, person)) == [
        "sex",
        "birth_year",
        "birth_month",
        "birth_place",
    ]


@given(
    traits,
    _digits(3),
    st.one_of(st.integers(min_value=20, max_value=42), st.integers(min_value=50, max_value=99)),
)
def test_months_of_incomplete_civil_records_are_not_rejected(
    person: Traits, order: str, month: int
) -> None:
    matricule = _matricule_for(person, order, month=f"{month:02d}")
    assert check_matricule(matricule) == matricule
    assert check_traits_consistency(matricule, person) == []


@given(traits, _digits(3), st.sampled_from("3478"))
def test_the_sex_is_not_checked_for_a_provisional_registration(
    person: Traits, order: str, first: str
) -> None:
    matricule = _with_key(first + _matricule_for(person, order)[1:13])
    for sex in ("M", "F", "U"):
        other = Traits(sex, person.birth_date, person.birth_place_code)
        assert check_traits_consistency(matricule, other) == []


def test_an_unknown_sex_does_not_contradict_a_nir() -> None:
    person = Traits(sex="U", birth_date=datetime.date(1979, 3, 1), birth_place_code="51215")
    assert check_traits_consistency(ANS_TEST_MATRICULE, person) == []


def test_overseas_birth_places_compare_the_three_digit_departement() -> None:
    matricule = _with_key("1850397411" + "123")
    born = datetime.date(1985, 3, 2)
    assert check_traits_consistency(matricule, Traits("M", born, "97411")) == []
    assert _codes(check_traits_consistency(matricule, Traits("M", born, "97111"))) == [
        "birth_place"
    ]


def test_corsicans_born_before_1976_keep_departement_20() -> None:
    matricule = _with_key("1700320004" + "123")
    born = datetime.date(1970, 3, 2)
    assert check_traits_consistency(matricule, Traits("M", born, "2A004")) == []
    assert check_traits_consistency(matricule, Traits("M", born, "20004")) == []
    assert _codes(check_traits_consistency(matricule, Traits("M", born, "21004"))) == [
        "birth_place"
    ]


def test_people_born_abroad_have_a_country_code() -> None:
    matricule = _with_key("2900399352" + "123")
    born = datetime.date(1990, 3, 2)
    assert check_traits_consistency(matricule, Traits("F", born, "99352")) == []
    assert _codes(check_traits_consistency(matricule, Traits("F", born, "75056"))) == [
        "birth_place"
    ]


def test_a_malformed_matricule_is_refused_before_comparing_traits() -> None:
    person = Traits(sex="F", birth_date=datetime.date(1979, 3, 1), birth_place_code="51215")
    with pytest.raises(InsError) as raised:
        check_traits_consistency("279035121518988", person)
    assert raised.value.code == "key"
