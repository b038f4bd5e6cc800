"""Finding a patient among those the user may see: by INS, hospital number (IPP), name prefix
and birth date. Kept apart from the visibility rules so that it can be tuned for regional
scale (a million patients) without touching who may see what."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from dcc.accounts.permissions import AnyUser
from dcc.patients import ins, matching
from dcc.patients.models import Patient
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
    visible = patients_visible_to(user)
    text = text.strip()
    if not text and birth_date is None:
        return []
    conditions = Q()
    if text:
        matricule = ins.normalise_matricule(text)
        key = matching.name_key(text)
        by_text = Q(identifiers__value=text)
        if len(matricule) == 15:
            by_text |= Q(ins_matricule=matricule)
        if key:
            by_text |= Q(birth_name_key__startswith=key) | Q(used_name_key__startswith=key)
        conditions &= by_text
    if birth_date is not None:
        conditions &= Q(birth_date=birth_date)
    ids = visible.filter(conditions).values("pk")
    return list(
        Patient.objects.filter(pk__in=ids).order_by("birth_name", "first_birth_first_name", "pk")[
            offset : offset + limit
        ]
    )
