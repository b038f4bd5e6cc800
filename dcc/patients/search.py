"""Finding a patient among those the user may see: by INS, hospital number (IPP), name prefix
and birth date. Kept apart from the visibility rules so that it can be tuned for regional
scale (a million patients) without touching who may see what."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from dcc.accounts.permissions import AnyUser
from dcc.patients import ins, matching
from dcc.patients.models import Patient, PatientIdentifier
from dcc.patients.selectors import patients_visible_to

SEARCH_LIMIT = 50


def search_patients(
    user: AnyUser,
    *,
    text: str = "",
    birth_date: dt.date | None = None,
    limit: int = SEARCH_LIMIT,
    offset: int = 0,
) -> list[Patient]:
    """Find visible patients by INS, hospital number (IPP) or name prefix, and birth date.

    ``text`` is tried as an INS matricule (15 characters once normalised), as an IPP, and as
    the start of the birth or used name, ignoring accents, case, spaces and hyphens ("dup"
    finds Dupont, Dupond and Du Pont). Only patients the user may see are searched, and no
    count of the others is ever computed. Pages are ``offset``/``limit`` slices (ask for one
    more row than shown to know whether there is a next page)."""
    text = text.strip()
    if not text and birth_date is None:
        return []
    found = patients_visible_to(user)
    if text:
        found = found.filter(pk__in=_matching_ids(text, birth_date))
    if birth_date is not None:
        found = found.filter(birth_date=birth_date)
    return list(
        found.order_by("birth_name", "first_birth_first_name", "pk")[offset : offset + limit]
    )


def _matching_ids(text: str, birth_date: dt.date | None) -> QuerySet[Any, int]:
    """Ids of the patients whose IPP, INS or name start matches, one indexed arm per way, as
    ``UNION ALL`` (an ``OR`` across a join and several columns would scan the whole table)."""
    dated = {"birth_date": birth_date} if birth_date is not None else {}
    arms: list[QuerySet[Any, int]] = [
        PatientIdentifier.objects.filter(value=text).values_list("patient_id", flat=True)
    ]
    matricule = ins.normalise_matricule(text)
    if len(matricule) == 15:
        # Spelled as the unique index's condition, so that both databases use that index.
        live = ~Q(ins_matricule="") & Q(merged_into__isnull=True)
        arms.append(_ids(Q(ins_matricule=matricule, **dated) & live))
    key = matching.name_key(text)
    if key:
        arms.append(_ids(_prefix("birth_name_key", key) & Q(**dated)))
        arms.append(_ids(_prefix("used_name_key", key) & Q(**dated)))
    arms = [arm.order_by() for arm in arms]
    return arms[0].union(*arms[1:], all=True)


def _ids(condition: Q) -> QuerySet[Any, int]:
    return Patient.objects.filter(condition).values_list("pk", flat=True)


def _prefix(field: str, key: str) -> Q:
    """``field`` starts with ``key``, in the form each database answers from an index.

    PostgreSQL: ``LIKE 'KEY%'`` on a ``varchar_pattern_ops`` index. SQLite's LIKE ignores
    case and never uses a plain index, so the same prefix is asked as a range in code-point
    order (keys are upper-case letters: the same rows as the LIKE)."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__startswith": key})
    upper = key[:-1] + chr(ord(key[-1]) + 1)
    return Q(**{f"{field}__gte": key, f"{field}__lt": upper})
