from __future__ import annotations

from pathlib import Path

import pytest

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
