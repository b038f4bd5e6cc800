"""Portable JSON aggregation, to read a record's small lists in the statement that reads the
record (one round trip instead of one per list)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Aggregate, JSONField
from django.utils import timezone
from django.utils.dateparse import parse_datetime


class JSONList(Aggregate):
    """A JSON array of one value (typically a ``JSONObject``) per row: ``JSONB_AGG`` on
    PostgreSQL, ``JSON_GROUP_ARRAY`` on SQLite. Order is not guaranteed: sort in Python."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra)


def moment(value: Any) -> dt.datetime | None:
    """A date and time read back from JSON (ISO text from PostgreSQL, SQLite's own text,
    UTC without offset), as an aware datetime."""
    if not value:
        return None
    parsed = parse_datetime(str(value))
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed
