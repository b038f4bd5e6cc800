from __future__ import annotations

import os
from pathlib import Path

import pytest

from dcc.documents.storage import local
from dcc.documents.storage.local import LocalBlobStore
from dcc.documents.tests.store_contract import StoreContract, new_key


class TestLocalStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> LocalBlobStore:
        return LocalBlobStore(tmp_path / "blobs")


def test_an_interrupted_write_is_a_hidden_temporary_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    key = new_key()
    writer = store.create(key)
    writer.write(b"half")
    # The process dies here: nothing under the key, one temporary the cleaner can find.
    assert not store.exists(key)
    assert list(store.keys()) == []
    assert len(list(store.temporaries())) == 1
    writer.abort()
    assert list(store.temporaries()) == []


def test_blobs_and_folders_are_private(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    key = new_key()
    writer = store.create(key)
    writer.write(b"secret")
    writer.commit()
    path = tmp_path / "blobs" / key
    assert path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0


def test_a_long_blob_is_handed_to_the_disk_as_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(local, "WRITEBACK_BYTES", 1000)
    monkeypatch.setattr(
        os,
        "posix_fadvise",
        lambda descriptor, offset, length, advice: started.append((offset, length)),
        raising=False,
    )
    store = LocalBlobStore(tmp_path)
    key = new_key()
    writer = store.create(key)
    for _ in range(5):
        writer.write(b"x" * 600)
    writer.commit()
    # Every byte but the last few is handed over once, in order; the commit syncs the rest.
    assert started == [(0, 1200), (1200, 1200)]
    assert b"".join(store.read(key)) == b"x" * 3000
