"""The contract every blob store meets (see ``local.py`` and ``s3.py``).

A blob is written once through a ``BlobWriter``: ``write`` as many chunks as needed, then
``commit`` (the blob is durable and visible under its key when it returns: fsync on a disk, a
completed multipart upload on S3) or ``abort`` (nothing is left behind, not even a partial
object). Until ``commit`` returns, ``exists(key)`` is false and ``read`` fails. A key is never
written twice: ``create`` refuses a key that exists. Committed blobs are never deleted or
replaced by the application: there is no delete method. (The local store commits in two steps,
``stage`` then ``publish``: a staged blob that no database row ever recorded is dropped from
its temporary area — it never was a document.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

# Server-generated keys only: lower-case hexadecimal and hyphens, optionally in folders
# ("ab/cd/<uuid>.blob"). Anything else (a user's file name, "..", a slash at either end) is
# refused before any store sees it.
KEY_PATTERN = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f-]{8,64}\.blob$")


class BlobStoreError(Exception):
    """A store could not do what was asked (missing blob, existing key, I/O failure)."""


class BlobNotFound(BlobStoreError):
    pass


class BlobExists(BlobStoreError):
    pass


def check_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a server-generated blob key: {key!r}")
    return key


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self) -> None:
        """Make the blob durable and visible under its key; then nothing more may be written."""

    def abort(self) -> None:
        """Drop what was written; idempotent; a no-op after ``commit``."""


class BlobStore(Protocol):
    kind: str  # "local" or "s3": recorded with each blob

    def create(self, key: str) -> BlobWriter:
        """Start writing a new blob; ``BlobExists`` when the key is taken."""

    def read(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The blob's bytes in chunks of at most ``chunk_size``; ``BlobNotFound`` if absent."""

    def size(self, key: str) -> int:
        """The committed blob's size in bytes; ``BlobNotFound`` if absent."""

    def exists(self, key: str) -> bool: ...

    def keys(self) -> Iterator[str]:
        """Every committed blob's key (the scrub walks them to find orphans)."""
