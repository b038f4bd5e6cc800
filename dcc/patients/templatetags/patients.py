"""Display helpers for patient pages."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from dcc.patients import communes

register = template.Library()


@register.filter
def birth_place(code: str) -> str:
    """``33063`` → ``33063 — Bordeaux`` (the code alone when the table does not know it)."""
    name = communes.commune_name(code) if code else None
    return f"{code} — {name}" if name else code


@register.filter
def age(birth_date: dt.date | None) -> int | None:
    if birth_date is None:
        return None
    today = timezone.localdate()
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
