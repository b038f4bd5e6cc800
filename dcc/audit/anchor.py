"""The chain head, copied outside the database after every seal.

Someone able to write the database could delete the newest events together with their chain
links and leave a shorter chain that still verifies. The anchor file (on other storage in
production: a WORM bucket or a write-once mount; see docs/deployment.md) remembers the
highest sealed position and its MAC, keyed so it cannot be forged, and only ever moves
forward. The verifier compares the chain with it, and the sealer refuses to extend a chain
that no longer passes through it.

The file is rewritten in place, one fixed-size record under an exclusive lock, and read under
a shared lock: creating and renaming a file per seal cost a quarter of a millisecond on
filesystems that discard freed blocks, paid by every audited request.
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

_RECORD_SIZE = 256  # JSON padded with spaces: every write covers the previous record whole


@dataclass(frozen=True)
class Anchor:
    seq: int
    mac: str


def _path() -> Path | None:
    value = settings.AUDIT_ANCHOR_FILE
    return Path(value) if value else None


def _sign(seq: int, mac: str, key: bytes | None = None) -> str:
    message = f"anchor|{seq}|{mac}".encode()
    return hmac.digest(key or settings.AUDIT_KEY, message, "sha256").hex()


def _signed_by_a_known_key(seq: int, mac: str, signature: str) -> bool:
    """Written with the current key, or with a retired one before a rotation."""
    return any(
        hmac.compare_digest(_sign(seq, mac, key), signature) for key in settings.AUDIT_KEYS.values()
    )


def _parse(path: Path, raw: bytes) -> Anchor | None:
    if not raw.strip():
        return None  # created, never written: as if absent
    try:
        data = json.loads(raw)
        seq, mac, signature = int(data["seq"]), str(data["mac"]), str(data["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"audit anchor {path} is malformed ({exc!r})") from exc
    if not _signed_by_a_known_key(seq, mac, signature):
        raise ValueError(f"audit anchor {path} has an invalid signature")
    return Anchor(seq, mac)


def read() -> Anchor | None:
    """The stored head, or None when anchoring is off or nothing was sealed yet.

    Raises ValueError when the file exists but was altered or cannot be parsed."""
    path = _path()
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        raw = os.pread(fd, 1 << 16, 0)
    finally:
        os.close(fd)
    return _parse(path, raw)


_last_read: tuple[tuple[object, ...], Anchor | None] | None = None


def _identity(path: Path, status: os.stat_result) -> tuple[object, ...]:
    return (
        str(path),
        settings.AUDIT_KEY,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    )


def _remember(path: Path, status: os.stat_result, head: Anchor | None) -> None:
    global _last_read
    _last_read = (_identity(path, status), head)


def read_if_changed() -> Anchor | None:
    """``read()``, skipped while the file's inode, size and times are those of the last read
    or write by this process.

    For the sealer, which checks the anchor after every commit. A change that keeps all of
    them (another write within the same clock tick) leaves it an older anchor: one the chain
    passed through, so the check stays sound. The verifier always reads the file itself."""
    path = _path()
    if path is None:
        return None
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    if _last_read is not None and _last_read[0] == _identity(path, status):
        return _last_read[1]
    head = read()
    _remember(path, status, head)
    return head


def disagreement(seq: int, mac: str, mac_at: Callable[[int], str | None]) -> str:
    """Why the chain whose head is (``seq``, ``mac``) does not extend the anchor; "" if it does.

    ``mac_at(n)`` returns the chain MAC stored at position n. It is called only when the
    anchor lags behind the head (another sealer committed and has not advanced it yet)."""
    try:
        head = read_if_changed()
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
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            current = _parse(path, os.pread(fd, 1 << 16, 0))
        except ValueError as exc:
            logger.error("audit anchor left as found: %s", exc)
            return
        if current is not None and current.seq >= seq:
            return
        record = json.dumps({"seq": seq, "mac": mac, "signature": _sign(seq, mac)}).encode()
        os.pwrite(fd, record.ljust(_RECORD_SIZE), 0)
        status = os.fstat(fd)
        if status.st_size > _RECORD_SIZE:
            os.ftruncate(fd, _RECORD_SIZE)
            status = os.fstat(fd)
        _remember(path, status, Anchor(seq, mac))
    finally:
        os.close(fd)
