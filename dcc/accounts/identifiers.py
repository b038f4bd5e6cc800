"""National identifiers of professionals and structures: format and check-key validation."""

from __future__ import annotations

import re

from stdnum import luhn

_RPPS = re.compile(r"^\d{11}$")
_FINESS = re.compile(r"^(\d{2}|2A|2B)\d{7}$")
_SIRET = re.compile(r"^\d{14}$")


def is_valid_rpps(value: str) -> bool:
    """RPPS: 11 digits, the last one a Luhn key over the first ten."""
    return bool(_RPPS.match(value)) and luhn.is_valid(value)


def rpps_from_idnatps(value: str) -> str | None:
    """The RPPS carried by an IdNatPS ("8" + RPPS), or None if it is not an RPPS-based id."""
    if len(value) == 12 and value.startswith("8") and is_valid_rpps(value[1:]):
        return value[1:]
    return None


def idnatps(rpps: str) -> str:
    return "8" + rpps


def is_valid_finess(value: str) -> bool:
    """FINESS: 9 characters (Corsica: 2A/2B), the last one a Luhn key over the first eight."""
    if not _FINESS.match(value):
        return False
    return luhn.is_valid(value.replace("A", "0").replace("B", "0"))


def is_valid_siret(value: str) -> bool:
    return bool(_SIRET.match(value)) and luhn.is_valid(value)
