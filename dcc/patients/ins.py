"""INS matricule (NIR or NIA): format, check key and consistency with the identity traits.

Pure functions, no database: forms, services and the HL7/FHIR intake all call the same checks.
Layout of the 15 characters (../shared/domain.md §5): sex (1) · birth year YY (2) · birth month
(2) · birth département (2, ``2A``/``2B`` for Corsica; ``97x``/``98x`` overseas take 3 and leave 2
for the commune; ``99`` when born abroad) · commune (3) · order number (3) · key (2).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

__all__ = [
    "InsError",
    "InsErrorCode",
    "Traits",
    "check_matricule",
    "check_traits_consistency",
    "ins_key",
    "normalise_matricule",
]

InsErrorCode = Literal["format", "key", "sex", "birth_year", "birth_month", "birth_place"]

MESSAGES: Final[dict[InsErrorCode, _StrPromise]] = {
    "format": _(
        "Le matricule INS compte 15 caractères : 13 chiffres (2A/2B pour la Corse) et une clé de 2 chiffres."
    ),
    "key": _("La clé du matricule INS ne correspond pas : vérifiez la saisie."),
    "sex": _("Le premier chiffre du matricule ne correspond pas au sexe saisi."),
    "birth_year": _(
        "Les chiffres 2 et 3 du matricule ne correspondent pas à l'année de naissance saisie."
    ),
    "birth_month": _(
        "Les chiffres 4 et 5 du matricule ne correspondent pas au mois de naissance saisi."
    ),
    "birth_place": _(
        "Le département de naissance du matricule ne correspond pas au code INSEE du lieu de naissance saisi."
    ),
}

# First digit: 1/2 for a NIR, 3/4 and 7/8 for provisional registrations (NIA and the like).
# The month is not restricted here: values outside 01–12 exist for incomplete civil records.
_MATRICULE_RE: Final = re.compile(r"[123478]\d{4}(?:\d{2}|2A|2B)\d{6}\d{2}")
_BODY_RE: Final = re.compile(r"[123478]\d{4}(?:\d{2}|2A|2B)\d{6}")
_SEPARATORS_RE: Final = re.compile(r"[\s.\-]+")
# Corsica was département 20 until 1976: a NIR from before then says 20 for a place coded 2A/2B.
_CORSICA: Final = frozenset({"20", "2A", "2B"})
_OVERSEAS: Final = frozenset({"97", "98"})
_SEX_BY_DIGIT: Final = {"1": "M", "2": "F"}


class InsError(ValueError):
    """A matricule that is malformed, or that contradicts the identity traits entered."""

    code: InsErrorCode
    message: _StrPromise

    def __init__(self, code: InsErrorCode) -> None:
        self.code = code
        self.message = MESSAGES[code]
        # The code, not the (lazy) message, so that str() never needs translations set up.
        super().__init__(code)


@dataclass(frozen=True)
class Traits:
    """The identity traits the matricule is compared with.

    ``sex`` is "M", "F" or "U" (unknown); ``birth_place_code`` is the 5-character INSEE code of
    the birth commune ("75056", "2A004", "97411"), or of the country ("99xxx") when born abroad.
    """

    sex: Literal["M", "F", "U"]
    birth_date: datetime.date
    birth_place_code: str


def normalise_matricule(value: str) -> str:
    """Drop the spaces, dots and dashes people type or copy, and upper-case (``2a`` → ``2A``)."""
    return _SEPARATORS_RE.sub("", value).upper()


def ins_key(first13: str) -> int:
    """Return the check key of the first 13 characters: 97 − (number mod 97), 1 to 97.

    Corsica's ``2A`` and ``2B`` count as 19 and 18. Raises InsError("format") on anything that is
    not a 13-character matricule body.
    """
    if _BODY_RE.fullmatch(first13) is None:
        raise InsError("format")
    digits = first13.replace("2A", "19").replace("2B", "18")
    return 97 - int(digits) % 97


def check_matricule(value: str) -> str:
    """Return the normalised 15-character matricule, or raise InsError ("format" or "key")."""
    matricule = normalise_matricule(value)
    if _MATRICULE_RE.fullmatch(matricule) is None:
        raise InsError("format")
    if int(matricule[13:]) != ins_key(matricule[:13]):
        raise InsError("key")
    return matricule


def check_traits_consistency(matricule: str, traits: Traits) -> list[InsError]:
    """Return every way the matricule contradicts the traits (an empty list when it does not).

    Raises InsError if the matricule itself is malformed. Only what the matricule reliably
    encodes is compared: the sex for a NIR (first digit 1 or 2, not for an unknown sex), the
    birth year, the birth month when it is 01–12 (other values stand for an incomplete civil
    record) and the birth département against the start of the INSEE code.
    """
    matricule = check_matricule(matricule)
    errors: list[InsError] = []
    expected_sex = _SEX_BY_DIGIT.get(matricule[0])
    if expected_sex is not None and traits.sex != "U" and traits.sex != expected_sex:
        errors.append(InsError("sex"))
    if int(matricule[1:3]) != traits.birth_date.year % 100:
        errors.append(InsError("birth_year"))
    month = int(matricule[3:5])
    if 1 <= month <= 12 and month != traits.birth_date.month:
        errors.append(InsError("birth_month"))
    if not _same_birth_place(matricule, traits.birth_place_code.strip().upper()):
        errors.append(InsError("birth_place"))
    return errors


def _same_birth_place(matricule: str, insee_code: str) -> bool:
    department = matricule[5:7]
    if department in _OVERSEAS:
        return insee_code[:3] == matricule[5:8]
    if department in _CORSICA:
        return insee_code[:2] in _CORSICA
    return insee_code[:2] == department
