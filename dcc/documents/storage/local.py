"""Blobs in a local directory (the embedded default).

A blob is written to a hidden temporary file beside its final place, flushed and fsync'ed,
then linked to its key without replacing anything (``os.link`` fails if the key exists) and the
directory fsync'ed: after ``commit`` returns, the blob survives a crash or power loss, and a
crash before that leaves at most a temporary file that is never visible under a key (and that
``temporaries`` lists for cleaning)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from dcc.documents.storage.base import BlobExists, BlobNotFound, BlobStoreError, check_key

TEMPORARY_PREFIX = ".partial-"


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class LocalBlobWriter:
    def __init__(self, final: Path) -> None:
        self._final = final
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._temporary = final.parent / f"{TEMPORARY_PREFIX}{secrets.token_hex(8)}"
        # O_EXCL: never follow or reuse something already there.
        descriptor = os.open(self._temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(descriptor, "wb", buffering=0)
        self._done = False

    def write(self, data: bytes) -> None:
        if self._done:
            raise BlobStoreError("blob already committed or aborted")
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written or 0 :]

    def commit(self) -> None:
        if self._done:
            raise BlobStoreError("blob already committed or aborted")
        try:
            os.fsync(self._file.fileno())
            self._file.close()
            try:
                os.link(self._temporary, self._final)
            except FileExistsError as error:
                raise BlobExists(self._final.name) from error
            os.unlink(self._temporary)
            _fsync_directory(self._final.parent)
        except BaseException:
            self.abort()
            raise
        self._done = True

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._file.close()
        self._temporary.unlink(missing_ok=True)


class LocalBlobStore:
    kind = "local"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def create(self, key: str) -> LocalBlobWriter:
        path = self._path(key)
        if path.exists():
            raise BlobExists(key)
        return LocalBlobWriter(path)

    def read(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        try:
            handle = open(self._path(key), "rb")  # noqa: SIM115 (closed by the generator)
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error
        return self._chunks(handle, chunk_size)

    @staticmethod
    def _chunks(handle: object, chunk_size: int) -> Iterator[bytes]:
        with handle:  # type: ignore[attr-defined]
            while chunk := handle.read(chunk_size):  # type: ignore[attr-defined]
                yield chunk

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*/*.blob")):
            key = path.relative_to(self.root).as_posix()
            try:
                yield check_key(key)
            except ValueError:
                continue

    def temporaries(self) -> Iterator[Path]:
        """Leftovers of writes a crash interrupted: never visible under a key."""
        if self.root.is_dir():
            yield from sorted(self.root.glob(f"*/*/{TEMPORARY_PREFIX}*"))
