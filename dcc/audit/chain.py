"""The cryptography of the audit trail: canonical row bytes, row MAC and chain MAC.

Kept free of Django so that the writer, the sealer, the verifier and the benchmark share one
definition. The key comes from ``DCC_AUDIT_KEY``/``DCC_AUDIT_KEY_FILE`` and never from the
database, so someone who can write the audit table cannot forge a valid row or re-chain it.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Sequence

# Order matters: it is the MAC's input layout. Never reorder; add fields only with a new key id.
CONTENT_FIELDS: tuple[str, ...] = (
    "uuid",
    "occurred_at",
    "actor_kind",
    "actor_user_id",
    "actor_rpps",
    "actor_structure_id",
    "actor_role",
    "actor_label",
    "action",
    "outcome",
    "patient_ref",
    "resource_type",
    "resource_id",
    "resource_version",
    "purpose",
    "source_ip",
    "request_id",
    "details",
    "key_id",
)
GENESIS = "0" * 64
SEPARATOR = "\x1f"


def canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(values: Sequence[object]) -> bytes:
    """Bytes of a row's content, fields in ``CONTENT_FIELDS`` order, unit-separator joined.

    The unit separator cannot appear in a field: ``record_event`` strips control characters
    from every text field and the details JSON escapes them."""
    parts: list[str] = []
    for value in values:
        if isinstance(value, dt.datetime):
            parts.append(canonical_time(value))
        else:
            parts.append(str(value))
    return SEPARATOR.join(parts).encode()


def _postgres_field(name: str) -> str:
    if name == "uuid":
        return """coalesce("uuid"::text, 'None')"""
    if name == "occurred_at":
        # Years 1000-9999 only: outside them to_char and strftime disagree, and no genuine
        # event lies there; any other value yields text no genuine row can have.
        return (
            """CASE WHEN "occurred_at" >= '1000-01-01 00:00:00+00' """
            """AND "occurred_at" < '10000-01-01 00:00:00+00' """
            """THEN to_char("occurred_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') """
            """ELSE 'invalid:' || coalesce("occurred_at"::text, 'None') END"""
        )
    return f"""coalesce("{name}"::text, 'None')"""


# ``canonical_bytes`` computed by PostgreSQL itself, so the verifier fetches one text column
# per row instead of formatting nineteen in Python (and the database does that work on another
# core). Tests check that both renderings agree on every kind of value.
POSTGRES_CANONICAL_SQL = (
    "concat_ws(E'\\x1f', " + ", ".join(_postgres_field(name) for name in CONTENT_FIELDS) + ")"
)


def row_mac(key: bytes, values: Sequence[object]) -> str:
    return hmac.digest(key, canonical_bytes(values), "sha256").hex()


def chain_mac(key: bytes, previous: str, seq: int, row: str) -> str:
    return hmac.digest(key, f"{previous}|{seq}|{row}".encode(), "sha256").hex()
