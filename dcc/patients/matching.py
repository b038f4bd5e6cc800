"""Identity vigilance: the keys and the search that find a patient registered twice.

Names are compared on a key that ignores accents, case, spaces, hyphens and apostrophes
("Du Pont", "DUPONT", "du-pont" all give DUPONT); birth dates also match their usual typos
(day and month swapped, one wrong digit in the day, the month or the year's last two digits).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable

from django.db.models import Q

from dcc.patients.models import Patient

MAX_CANDIDATES = 20


def name_key(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isalpha() and not unicodedata.combining(c)).upper()


def first_name_key(first_names: str) -> str:
    """The key of the first of the birth first names ("Marie-Louise Anne" → MARIELOUISE)."""
    words = first_names.split()
    return name_key(words[0]) if words else ""


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _one_digit_changes(number: int, width: int) -> Iterable[int]:
    text = f"{number:0{width}d}"
    for position in range(width):
        for digit in "0123456789":
            if digit != text[position]:
                yield int(text[:position] + digit + text[position + 1 :])


def birth_date_variants(date: dt.date) -> set[dt.date]:
    """The date and the dates one usual typo away from it."""
    candidates: list[dt.date | None] = [date, _valid(date.year, date.day, date.month)]
    candidates += [_valid(date.year, date.month, day) for day in _one_digit_changes(date.day, 2)]
    candidates += [
        _valid(date.year, month, date.day) for month in _one_digit_changes(date.month, 2)
    ]
    century = date.year - date.year % 100
    candidates += [
        _valid(century + yy, date.month, date.day) for yy in _one_digit_changes(date.year % 100, 2)
    ]
    return {candidate for candidate in candidates if candidate is not None}


def candidate_duplicates(
    *,
    ins_matricule: str,
    birth_name: str,
    birth_first_names: str,
    used_name: str,
    birth_date: dt.date,
    exclude: Patient | None = None,
) -> list[Patient]:
    """Living records that may be the same person, most likely first (same INS)."""
    birth_key, used_key = name_key(birth_name), name_key(used_name)
    first_key = first_name_key(birth_first_names)
    same_person = Q(birth_name_key=birth_key, birth_date__in=birth_date_variants(birth_date))
    if first_key:
        # A married name typed as the birth name, or the other way round.
        swapped = Q(first_name_key=first_key, birth_date=birth_date) & (
            Q(birth_name_key=used_key) | Q(used_name_key=birth_key)
            if used_key
            else Q(used_name_key=birth_key)
        )
        same_person |= swapped
    if ins_matricule:
        same_person |= Q(ins_matricule=ins_matricule)
    query = Patient.objects.filter(same_person, merged_into__isnull=True)
    if exclude is not None:
        query = query.exclude(pk=exclude.pk)
    found = list(query[:MAX_CANDIDATES])
    found.sort(key=lambda p: (p.ins_matricule != ins_matricule or not ins_matricule, p.birth_name))
    return found
