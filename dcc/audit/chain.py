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
_SEPARATOR = "\x1f"


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
    return _SEPARATOR.join(parts).encode()


def row_mac(key: bytes, values: Sequence[object]) -> str:
    return hmac.digest(key, canonical_bytes(values), "sha256").hex()


def chain_mac(key: bytes, previous: str, seq: int, row: str) -> str:
    return hmac.digest(key, f"{previous}|{seq}|{row}".encode(), "sha256").hex()
