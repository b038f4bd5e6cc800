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
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


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

    Raises ValueError when the file exists but was altered."""
    path = _path()
    if path is None or not path.exists():
        return None
    data = json.loads(path.read_text() or "{}")
    seq, mac = int(data["seq"]), str(data["mac"])
    if not hmac.compare_digest(_sign(seq, mac), str(data.get("signature", ""))):
        raise ValueError(f"audit anchor {path} has an invalid signature")
    return Anchor(seq, mac)


def advance(seq: int, mac: str) -> None:
    """Move the anchor to ``seq`` unless it already stands further."""
    path = _path()
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = read()
        except (ValueError, KeyError, json.JSONDecodeError):
            current = None
        if current is not None and current.seq >= seq:
            return
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"seq": seq, "mac": mac, "signature": _sign(seq, mac)}))
        os.replace(temporary, path)
