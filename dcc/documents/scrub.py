"""Checking every stored blob against what was recorded at upload (``dcc documents_scrub``),
and re-wrapping data keys under the current master key (``dcc documents_rewrap``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from dcc.documents import content, crypto
from dcc.documents.models import StoredBlob
from dcc.documents.storage.base import BlobStoreError

BATCH = 500


@dataclass
class ScrubReport:
    checked: int = 0
    corrupted: list[str] = field(default_factory=list)  # blob UUIDs
    missing: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # store keys without a row
    partials: list[str] = field(default_factory=list)  # interrupted local writes
    bytes_checked: int = 0

    @property
    def ok(self) -> bool:
        return not (self.corrupted or self.missing)


def scrub(*, orphans: bool = True, log: Callable[[str], None] = lambda line: None) -> ScrubReport:
    """Decrypt and hash every blob; list those that differ or are missing, and (``orphans``)
    the stored blobs no row refers to (a crash between the blob's commit and the row's)."""
    report = ScrubReport()
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
        temporaries = getattr(store, "temporaries", None)
        if temporaries is not None:
            report.partials = [str(path) for path in temporaries()]
    return report


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
