"""Writing and reading document content: inspect, hash, encrypt and store as it streams in;
check and decrypt as it goes out.

Writing (``PendingContent``): each chunk received is inspected (type decided by its bytes, size
limit), hashed (SHA-256 of the clear content), encrypted (``crypto``) and written to the blob
store, so that memory stays within a segment whatever the size and no clear byte ever touches
a disk. Past its first MiB, a content is inspected on a second thread while this one hashes
and writes (``inspection.beside``): same verdicts, a few chunks later. ``commit`` makes the
blob durable (fsync, or a completed S3 upload) — the caller then records the document in the
database; ``abort`` leaves nothing behind. On the local store a committed blob waits in the
store's temporary area until ``settle`` (or ``abort``, which settles a committed blob) finds
whether the database recorded it: it is then put in its place, or dropped. A crash in between
leaves it in the temporary area, where ``scrub.recover_interrupted_writes`` settles it the same
way: outside that area, the store only holds recorded blobs.

Reading (``open_verified``): a blob is decrypted and hashed in full, and checked against the
hash and size recorded at upload, before the first byte is served. Small contents are kept
from that pass; larger ones are decrypted a second time while they stream out (each segment
authenticated again). An altered, truncated or swapped blob raises ``ContentCorrupted``: it is
never served."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import unicodedata
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError

from dcc.documents import crypto
from dcc.documents.inspection import Kind, RejectedContent, Verdict
from dcc.documents.inspection.beside import StreamingInspection
from dcc.documents.models import StoredBlob
from dcc.documents.storage.base import BlobStore, BlobStoreError, BlobWriter
from dcc.documents.storage.local import LocalBlobWriter

logger = logging.getLogger(__name__)

# Contents up to this size are kept in memory after the verification pass.
KEEP_VERIFIED_BYTES = 8 * 1024 * 1024
FILE_NAME_MAX = 120


class ContentCorrupted(Exception):
    """The stored content does not match what was recorded at upload."""


@functools.cache
def _store(kind: str, location: str) -> BlobStore:
    if kind == "s3":
        from dcc.documents.storage.s3 import from_settings

        return from_settings(settings.DOCUMENT_S3)
    from dcc.documents.storage.local import LocalBlobStore

    return LocalBlobStore(location)


def get_store(kind: str | None = None) -> BlobStore:
    """The store configured (``DCC_DOCUMENT_STORE``), or the one a blob was written to."""
    return _store(kind or settings.DOCUMENT_STORE, str(settings.DOCUMENT_DIR))


def blob_key(blob_uuid: uuid.UUID) -> str:
    """A server-generated key: nothing of the user's file name ever reaches a store."""
    text = str(blob_uuid)
    return f"{blob_uuid.hex[:2]}/{blob_uuid.hex[2:4]}/{text}.blob"


def clean_file_name(name: str, kind: str) -> str:
    """The name shown and offered on download: the user's base name without paths, control
    characters or anything but letters, digits and ``.-_ ()``, shortened, with the extension
    of what the content really is."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] not in {"C", "Z"} or c == " ")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^\w .()-]+", "_", stem).strip(" ._") or "document"
    extension = {"pdf": "pdf", "cda": "xml", "jpeg": "jpg", "png": "png", "text": "txt"}[kind]
    return f"{stem[:FILE_NAME_MAX]}.{extension}"


@dataclass(frozen=True)
class ReceivedContent:
    """A blob written and inspected, not yet committed."""

    blob: StoredBlob  # unsaved: the caller saves it with the document
    verdict: Verdict


class PendingContent:
    """One upload's content on its way to the store."""

    def __init__(
        self,
        *,
        file_name: str,
        declared: Kind | None = None,
        max_size: int | None = None,
        store: BlobStore | None = None,
        segment_size: int = crypto.DEFAULT_SEGMENT_SIZE,
    ) -> None:
        self.file_name = file_name
        self.uuid = uuid.uuid4()
        self.key = blob_key(self.uuid)
        self.store = store or get_store()
        self.inspector = StreamingInspection(
            declared=declared,
            max_size=settings.DOCUMENT_MAX_BYTES if max_size is None else max_size,
        )
        self._hash = hashlib.sha256()
        self._data_key = os.urandom(32)
        self._encryptor = crypto.SegmentEncryptor(self._data_key, self.uuid, segment_size)
        self._writer: BlobWriter | None = self.store.create(self.key)
        self._finished: ReceivedContent | None = None
        self._committed = False
        self._staged: LocalBlobWriter | None = None
        self._unsettled: weakref.finalize[[LocalBlobWriter], PendingContent] | None = None

    def feed(self, chunk: bytes) -> None:
        """Inspect, hash, encrypt and write one chunk; ``RejectedContent`` aborts the blob."""
        writer = self._writer
        if writer is None:
            raise BlobStoreError("content already finished or aborted")
        try:
            self.inspector.feed(chunk)
            self._hash.update(chunk)
            for sealed in self._encryptor.update(chunk):
                writer.write(sealed)
        except BaseException:
            self.abort()
            raise

    def finish(self) -> ReceivedContent:
        """Check the whole content and flush the last segment (still not committed)."""
        if self._finished is not None:
            return self._finished
        writer = self._writer
        if writer is None:
            raise BlobStoreError("content already aborted")
        try:
            verdict = self.inspector.finish()
            for sealed in self._encryptor.finish():
                writer.write(sealed)
        except BaseException:
            self.abort()
            raise
        key_id = crypto.current_key_id()
        kind = str(verdict.kind)
        self._finished = ReceivedContent(
            blob=StoredBlob(
                uuid=self.uuid,
                store=self.store.kind,
                key=self.key,
                kind=kind,
                mime_type=verdict.mime,
                size=self.inspector.size,
                sha256=self._hash.hexdigest(),
                file_name=clean_file_name(self.file_name, kind),
                segment_size=self._encryptor.segment_size,
                nonce_prefix=self._encryptor.nonce_prefix,
                key_id=key_id,
                wrapped_key=crypto.wrap(self._data_key, self.uuid, key_id),
                flags=list(verdict.flags),
            ),
            verdict=verdict,
        )
        return self._finished

    def commit(self) -> StoredBlob:
        """Make the blob durable; the caller records it in the database next, then calls
        ``settle`` (or ``abort``)."""
        received = self.finish()
        writer = self._writer
        if writer is None:
            raise BlobStoreError("content already aborted")
        if isinstance(writer, LocalBlobWriter):
            writer.stage()
            self._staged = writer
            # Dropped unsettled by its caller: kept, as a plain commit would. Not at the
            # interpreter's exit, where the caller's record may have died with the process:
            # ``scrub.recover_interrupted_writes`` decides then.
            self._unsettled = weakref.finalize(self, _publish_unsettled, writer)
            self._unsettled.atexit = False  # type: ignore[misc]  # typeshed: empty __slots__
        else:
            writer.commit()
        self._committed = True
        self._writer = None
        return received.blob

    def settle(self, *, recorded: bool | None = None) -> None:
        """The caller's database work is over: keep the committed blob if a row records it,
        drop it otherwise. Nothing to do before ``commit``, after ``settle``, or on S3.

        ``recorded=True`` spares the query when the caller knows: its transaction, which
        saved the row, has just completed (the row is then visible to this connection, as
        the query would have found). Otherwise the database is asked."""
        staged, self._staged = self._staged, None
        if staged is None:
            return
        if self._unsettled is not None:
            self._unsettled.detach()
        try:
            if recorded is not True:
                recorded = StoredBlob.objects.filter(store=self.store.kind, key=self.key).exists()
        except DatabaseError:
            # A broken transaction: ``scrub.recover_interrupted_writes`` decides later; the
            # blob stays readable under its key meanwhile.
            staged.release()
            logger.warning("documents: blob %s left to the recovery", self.uuid)
            return
        try:
            if recorded:
                staged.publish()
            else:
                staged.discard()
        except (OSError, BlobStoreError) as error:
            logger.error("documents: blob %s not settled: %s", self.uuid, type(error).__name__)

    def abort(self) -> None:
        """Drop the blob; once committed, ``settle`` it (kept only if a row records it)."""
        if self._committed:
            self.settle()
            return
        self.inspector.close()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.abort()

    @property
    def size(self) -> int:
        return self.inspector.size


def _publish_unsettled(writer: LocalBlobWriter) -> None:
    try:
        writer.publish()
    except (OSError, BlobStoreError) as error:
        logger.error("documents: a committed blob stays staged: %s", type(error).__name__)


def _clear_chunks(blob: StoredBlob) -> Iterator[bytes]:
    store = get_store(blob.store)
    data_key = crypto.unwrap(bytes(blob.wrapped_key), blob.uuid, blob.key_id)
    return crypto.decrypt(store.read(blob.key), data_key, blob.uuid)


def verify(blob: StoredBlob, *, keep: bool = False) -> list[bytes] | None:
    """Decrypt and hash the whole content; ``ContentCorrupted`` unless it is exactly what was
    uploaded. With ``keep``, the clear chunks are returned (small contents only)."""
    digest = hashlib.sha256()
    size = 0
    kept: list[bytes] | None = [] if keep else None
    try:
        for chunk in _clear_chunks(blob):
            digest.update(chunk)
            size += len(chunk)
            if kept is not None:
                kept.append(chunk)
    except (crypto.DecryptionError, BlobStoreError) as error:
        raise ContentCorrupted(f"blob {blob.uuid}: {error}") from None
    if size != blob.size or digest.hexdigest() != blob.sha256:
        raise ContentCorrupted(f"blob {blob.uuid}: content differs from its recorded hash")
    return kept


def open_verified(blob: StoredBlob) -> Iterator[bytes]:
    """The clear content, checked in full before the first byte is returned."""
    if blob.size <= KEEP_VERIFIED_BYTES:
        return iter(verify(blob, keep=True) or [])
    verify(blob)
    return _second_pass(blob)


def _second_pass(blob: StoredBlob) -> Iterator[bytes]:
    digest = hashlib.sha256()
    try:
        for chunk in _clear_chunks(blob):
            digest.update(chunk)
            yield chunk
    except (crypto.DecryptionError, BlobStoreError) as error:
        # Changed between the two passes: stop mid-stream rather than serve it.
        raise ContentCorrupted(f"blob {blob.uuid}: {error}") from None
    if digest.hexdigest() != blob.sha256:
        raise ContentCorrupted(f"blob {blob.uuid}: content changed while being served")


__all__ = [
    "ContentCorrupted",
    "PendingContent",
    "ReceivedContent",
    "RejectedContent",
    "get_store",
    "open_verified",
    "verify",
]
