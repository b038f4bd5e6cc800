"""The chain head, copied outside the database after every seal.

Someone able to write the database could delete the newest events together with their chain
links and leave a shorter chain that still verifies. The anchor file (on other storage in
production: a WORM bucket or a write-once mount; see docs/deployment.md) remembers the
highest sealed position and its MAC, keyed so it cannot be forged, and only ever moves
forward. The verifier compares the chain with it.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    seq: int
    mac: str


def _path() -> Path | None:
    value = settings.AUDIT_ANCHOR_FILE
    return Path(value) if value else None


def _sign(seq: int, mac: str) -> str:
    return hmac.digest(settings.AUDIT_KEY, f"anchor|{seq}|{mac}".encode(), "sha256").hex()


def read() -> Anchor | None:
    """The stored head, or None when anchoring is off or nothing was sealed yet.

    Raises ValueError when the file exists but was altered or cannot be parsed."""
    path = _path()
    if path is None or not path.exists():
        return None
    try:
        data = json.loads(path.read_text() or "{}")
        seq, mac, signature = int(data["seq"]), str(data["mac"]), str(data["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"audit anchor {path} is malformed ({exc!r})") from exc
    if not hmac.compare_digest(_sign(seq, mac), signature):
        raise ValueError(f"audit anchor {path} has an invalid signature")
    return Anchor(seq, mac)


def disagreement(seq: int, mac: str, mac_at: Callable[[int], str | None]) -> str:
    """Why the chain whose head is (``seq``, ``mac``) does not extend the anchor; "" if it does.

    ``mac_at(n)`` returns the chain MAC stored at position n. It is called only when the
    anchor lags behind the head (another sealer committed and has not advanced it yet)."""
    try:
        head = read()
    except ValueError as exc:
        return f"anchor unreadable: {exc}"
    if head is None:
        return ""
    if head.seq > seq:
        return f"chain ends at {seq}, the anchor is at {head.seq}: events were deleted"
    stored = mac if head.seq == seq else mac_at(head.seq)
    if stored != head.mac:
        return f"chain at position {head.seq} differs from the anchored head"
    return ""


def advance(seq: int, mac: str) -> None:
    """Move the anchor to ``seq`` unless it already stands further.

    An anchor that no longer reads correctly is evidence, never overwritten."""
    path = _path()
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = read()
        except ValueError as exc:
            logger.error("audit anchor left as found: %s", exc)
            return
        if current is not None and current.seq >= seq:
            return
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"seq": seq, "mac": mac, "signature": _sign(seq, mac)}))
        os.replace(temporary, path)
