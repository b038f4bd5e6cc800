"""Checking every stored blob against what was recorded at upload (``dcc documents_scrub``),
settling the writes a crash interrupted, and re-wrapping data keys under the current master key
(``dcc documents_rewrap``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from dcc.documents import content, crypto
from dcc.documents.models import StoredBlob
from dcc.documents.storage.base import BlobStore, BlobStoreError
from dcc.documents.storage.local import LocalBlobStore, Recovery, key_of_staged

BATCH = 500

logger = logging.getLogger(__name__)


@dataclass
class ScrubReport:
    checked: int = 0
    corrupted: list[str] = field(default_factory=list)  # blob UUIDs
    missing: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # store keys without a row
    partials: list[str] = field(default_factory=list)  # local writes in progress
    staged: list[str] = field(default_factory=list)  # keys of blobs waiting for their row
    recovery: Recovery | None = None  # what interrupted writes left, settled first
    bytes_checked: int = 0

    @property
    def ok(self) -> bool:
        return not (self.corrupted or self.missing)


def scrub(*, orphans: bool = True, log: Callable[[str], None] = lambda line: None) -> ScrubReport:
    """Settle the writes a crash interrupted, then decrypt and hash every blob; list those
    that differ or are missing, and (``orphans``) the stored blobs no row refers to."""
    report = ScrubReport(recovery=recover_interrupted_writes())
    last = 0
    while True:
        batch = list(StoredBlob.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            break
        for blob in batch:
            last = blob.pk
            report.checked += 1
            try:
                if not content.get_store(blob.store).exists(blob.key):
                    report.missing.append(str(blob.uuid))
                    continue
                content.verify(blob)
                report.bytes_checked += blob.size
            except (content.ContentCorrupted, BlobStoreError):
                report.corrupted.append(str(blob.uuid))
        log(f"{report.checked} blobs")
    if orphans:
        store = content.get_store()
        known = set(StoredBlob.objects.filter(store=store.kind).values_list("key", flat=True))
        report.orphans = [key for key in store.keys() if key not in known]  # noqa: SIM118
        if isinstance(store, LocalBlobStore):
            for path in store.temporaries():
                key = key_of_staged(path.name)
                if key is None:
                    report.partials.append(str(path))
                else:
                    report.staged.append(key)
    return report


def recover_interrupted_writes(store: BlobStore | None = None) -> Recovery | None:
    """Settle what writes interrupted by a crash left in the local store's temporary area:
    unfinished files are removed, committed blobs put in their place if a row records them and
    dropped otherwise. Writes in progress, in any process, are left alone. (On S3 an upload
    that never completed is never visible; the bucket's lifecycle rule removes its parts.)"""
    store = store or content.get_store()
    if not isinstance(store, LocalBlobStore):
        return None
    kind = store.kind

    def is_recorded(key: str) -> bool:
        return StoredBlob.objects.filter(store=kind, key=key).exists()

    recovery = store.recover(is_recorded)
    if recovery or recovery.failed:
        logger.warning(
            "documents: interrupted writes settled: %d temporary files removed, "
            "%d blobs put in place, %d unrecorded blobs dropped, %d left in error",
            recovery.removed_parts,
            len(recovery.published),
            len(recovery.discarded),
            len(recovery.failed),
        )
    return recovery


_recovered: set[str] = set()
_recovered_lock = threading.Lock()


def recover_once() -> None:
    """At a process's first upload, settle what a crash of an earlier process left (a
    failure is logged and tried again at the next upload: the upload itself goes on)."""
    store = content.get_store()
    if not isinstance(store, LocalBlobStore):
        return
    name = str(store.root)
    with _recovered_lock:
        if name in _recovered:
            return
        _recovered.add(name)
    try:
        recover_interrupted_writes(store)
    except Exception as error:
        with _recovered_lock:
            _recovered.discard(name)
        logger.warning("documents: interrupted writes not settled: %s", type(error).__name__)


def rewrap(*, log: Callable[[str], None] = lambda line: None) -> int:
    """Re-wrap every data key not under the current master key; returns how many."""
    current = crypto.current_key_id()
    done = 0
    while True:
        with transaction.atomic():
            batch = list(
                StoredBlob.objects.select_for_update()
                .exclude(key_id=current)
                .order_by("pk")[:BATCH]
            )
            if not batch:
                return done
            for blob in batch:
                data_key = crypto.unwrap(bytes(blob.wrapped_key), blob.uuid, blob.key_id)
                blob.wrapped_key = crypto.wrap(data_key, blob.uuid, current)
                blob.key_id = current
                blob.save(update_fields=["wrapped_key", "key_id", "updated_at"])
            done += len(batch)
        log(f"{done} clés renouvelées")
