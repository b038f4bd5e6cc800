"""Blobs in a local directory (the embedded default).

A blob is written through a temporary area, ``.tmp/`` at the root of the store, that no key can
name (keys are ``ab/cd/<uuid>.blob``), so nothing in it is ever served or listed as a blob:

1. ``create``: a new file ``.tmp/<random>.part``, created exclusively and private, and locked
   (``flock``) by its writer for as long as the writer holds it;
2. ``stage``: flushed, fsync'ed, linked to ``.tmp/<key>`` (slashes as underscores) and the
   temporary directory fsync'ed: the blob is durable and readable under its key (``read``,
   ``exists`` and ``size`` look there too), but not yet in its place;
3. ``publish``, once the caller has recorded the blob: linked to its key without replacing
   anything, the key's directory fsync'ed, the staged name removed; or ``discard``, when the
   caller's record failed: the staged blob removed. ``commit`` is ``stage`` then ``publish``.

A crash at any point leaves, outside ``.tmp/``, only blobs that were published, that is
recorded; in ``.tmp/`` it leaves files whose lock died with their writer. ``recover`` removes
the unfinished ``.part`` files and publishes or removes each staged blob according to the
caller's records (``content.recover_interrupted_writes``, run at each process's first upload
and by ``dcc documents_scrub``). A file still locked belongs to a live writer, in this process
or another, and is left alone."""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from dcc.documents.storage.base import BlobExists, BlobNotFound, BlobStoreError, check_key

TEMPORARY_DIR = ".tmp"
PART_SUFFIX = ".part"
# A writer has the kernel start writing its blob to disk every this many bytes.
WRITEBACK_BYTES = 8 * 1024 * 1024


def staged_name(key: str) -> str:
    """The name of a staged blob in the temporary area: its key, slashes as underscores."""
    return check_key(key).replace("/", "_")


def key_of_staged(name: str) -> str | None:
    try:
        return check_key(name.replace("_", "/"))
    except ValueError:
        return None


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _try_lock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _still_named(descriptor: int, path: Path) -> bool:
    """Whether ``path`` is still the file open as ``descriptor`` (not removed or replaced)."""
    try:
        named = os.lstat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _create_locked(directory: Path) -> tuple[BinaryIO, Path]:
    """A new, exclusively created and locked ``.part`` file.

    ``recover`` removes a ``.part`` file only while holding its lock; one it removed between
    our ``open`` and our ``flock`` is detected (the name no longer leads to our file) and
    another name is tried."""
    for _attempt in range(8):
        path = directory / f"{secrets.token_hex(12)}{PART_SUFFIX}"
        # O_EXCL: never follow or reuse something already there.
        descriptor = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        if _try_lock(descriptor) and _still_named(descriptor, path):
            return os.fdopen(descriptor, "wb", buffering=0), path
        os.close(descriptor)
    raise BlobStoreError("could not create a temporary file for a blob")


def _start_writeback(descriptor: int, offset: int, length: int) -> None:
    """Have the kernel start writing these bytes to disk, without waiting for it.

    Left to itself, the kernel keeps a blob's pages dirty in memory and the ``fsync`` of
    ``stage`` then waits for the whole blob to reach the disk; started as the blob streams in,
    the writing overlaps with receiving, inspecting and encrypting the rest, and that
    ``fsync`` is left with the last few MiB. On Linux ``POSIX_FADV_DONTNEED`` starts the
    writeback of dirty pages (as ``sync_file_range`` would, which Python does not offer;
    PostgreSQL falls back on it the same way) and drops the pages already clean: a blob is
    encrypted, nobody reads it back from the cache. It is advice: ``stage`` still ``fsync``s,
    and a failure changes nothing but the speed."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(descriptor, offset, length, os.POSIX_FADV_DONTNEED)
        except OSError:
            return


def _link_into_place(source: Path, final: Path) -> None:
    """Link ``source`` to ``final`` without replacing anything, and make the link durable."""
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.link(source, final)
    except FileExistsError as error:
        # Published before a crash removed the staged name: the same file, nothing to do.
        if not os.path.samefile(source, final):
            raise BlobExists(final.name) from error
    _fsync_directory(final.parent)


class LocalBlobWriter:
    """One blob on its way in: written, then staged, then published or discarded."""

    def __init__(self, root: Path, key: str) -> None:
        self._final = root / key
        self._temporary_dir = root / TEMPORARY_DIR
        self._staged = self._temporary_dir / staged_name(key)
        self._temporary_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The lock on this file (it follows the file when it is staged) tells ``recover`` that
        # its writer is alive; it is released when the file is closed, or when the process dies.
        self._file, self._part = _create_locked(self._temporary_dir)
        self._state = "writing"  # then "staged", then "done"
        self._written = 0
        self._written_back = 0  # the writeback was started up to here

    def write(self, data: bytes) -> None:
        if self._state != "writing":
            raise BlobStoreError("blob already committed or aborted")
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written or 0 :]
        self._written += len(data)
        if self._written - self._written_back >= WRITEBACK_BYTES:
            start = self._written_back
            _start_writeback(self._file.fileno(), start, self._written - start)
            self._written_back = self._written

    def stage(self) -> None:
        """Make the blob durable and readable under its key, in the temporary area."""
        if self._state != "writing":
            raise BlobStoreError("blob already committed or aborted")
        try:
            os.fsync(self._file.fileno())
            try:
                os.link(self._part, self._staged)
            except FileExistsError as error:
                raise BlobExists(self._final.name) from error
            os.unlink(self._part)
            _fsync_directory(self._temporary_dir)
        except BaseException:
            self.abort()
            raise
        self._state = "staged"

    def publish(self) -> None:
        """Move the staged blob to its key (the caller recorded it); then the writer is done."""
        if self._state != "staged":
            raise BlobStoreError("blob not staged")
        try:
            _link_into_place(self._staged, self._final)
            os.unlink(self._staged)
        finally:
            # On failure the staged blob stays readable; ``recover`` publishes it later.
            self._close()

    def discard(self) -> None:
        """Remove the staged blob (the caller's record failed); then the writer is done."""
        if self._state != "staged":
            raise BlobStoreError("blob not staged")
        try:
            self._staged.unlink(missing_ok=True)
        finally:
            self._close()

    def release(self) -> None:
        """Leave the staged blob for ``recover`` to settle; then the writer is done."""
        if self._state == "staged":
            self._close()

    def commit(self) -> None:
        self.stage()
        self.publish()

    def abort(self) -> None:
        """Drop an unfinished blob; a no-op once staged or done."""
        if self._state != "writing":
            return
        self._part.unlink(missing_ok=True)
        self._close()

    def _close(self) -> None:
        self._state = "done"
        self._file.close()


@dataclass
class Recovery:
    """What ``recover`` did with the leftovers of interrupted writes."""

    removed_parts: int = 0
    published: list[str] = field(default_factory=list)  # keys
    discarded: list[str] = field(default_factory=list)  # keys
    in_progress: int = 0  # files still locked by a live writer
    failed: list[str] = field(default_factory=list)  # names that could not be settled

    def __bool__(self) -> bool:
        return bool(self.removed_parts or self.published or self.discarded)


class LocalBlobStore:
    kind = "local"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.temporary_dir = self.root / TEMPORARY_DIR

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _staged(self, key: str) -> Path:
        return self.temporary_dir / staged_name(key)

    def create(self, key: str) -> LocalBlobWriter:
        if self._path(key).exists() or self._staged(key).exists():
            raise BlobExists(key)
        return LocalBlobWriter(self.root, key)

    def _open(self, key: str) -> BinaryIO:
        # In its place, else staged (recorded, not yet published), else published meanwhile.
        for path in (self._path(key), self._staged(key), self._path(key)):
            try:
                return open(path, "rb")  # noqa: SIM115 (closed by the caller)
            except FileNotFoundError:
                continue
        raise BlobNotFound(key)

    def read(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        return self._chunks(self._open(key), chunk_size)

    @staticmethod
    def _chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    def size(self, key: str) -> int:
        with self._open(key) as handle:
            return os.fstat(handle.fileno()).st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file() or self._staged(key).is_file()

    def keys(self) -> Iterator[str]:
        """Every blob in its place (staged blobs are in the temporary area: ``temporaries``)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*.blob")):
            key = path.relative_to(self.root).as_posix()
            try:
                yield check_key(key)
            except ValueError:
                continue

    def temporaries(self) -> Iterator[Path]:
        """Everything in the temporary area: writes in progress, or interrupted by a crash."""
        if self.temporary_dir.is_dir():
            yield from sorted(p for p in self.temporary_dir.iterdir() if p.is_file())

    def recover(self, is_recorded: Callable[[str], bool]) -> Recovery:
        """Settle what interrupted writes left in the temporary area: unfinished ``.part``
        files are removed; a staged blob is published if ``is_recorded(key)``, else removed.
        Files locked by a live writer are left alone."""
        recovery = Recovery()
        for path in self.temporaries():
            key = None
            if not path.name.endswith(PART_SUFFIX):
                key = key_of_staged(path.name)
                if key is None:
                    continue  # not ours: left for an operator to look at
            try:
                descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except FileNotFoundError:
                continue  # finished meanwhile
            try:
                if not _try_lock(descriptor):
                    recovery.in_progress += 1
                elif _still_named(descriptor, path):
                    self._settle(path, key, is_recorded, recovery)
            except (OSError, BlobStoreError):
                recovery.failed.append(path.name)
            finally:
                os.close(descriptor)
        return recovery

    def _settle(
        self, path: Path, key: str | None, is_recorded: Callable[[str], bool], recovery: Recovery
    ) -> None:
        # Called with the file's lock held: no writer owns it any more.
        if key is None:
            path.unlink()
            recovery.removed_parts += 1
        elif is_recorded(key):
            _link_into_place(path, self._path(key))
            path.unlink()
            recovery.published.append(key)
        else:
            path.unlink()
            recovery.discarded.append(key)
