"""The behaviour every blob store must have; each store's test module subclasses
``StoreContract`` and provides the ``store`` fixture."""

from __future__ import annotations

import uuid

import pytest

from dcc.documents.storage.base import BlobExists, BlobNotFound, BlobStore


def new_key() -> str:
    name = uuid.uuid4()
    return f"{name.hex[:2]}/{name.hex[2:4]}/{name}.blob"


class StoreContract:
    def test_a_committed_blob_reads_back_whole(self, store: BlobStore) -> None:
        key = new_key()
        writer = store.create(key)
        parts = [b"%PDF-1.7\n", bytes(range(256)) * 4096, b"\n%%EOF\n"]
        for part in parts:
            writer.write(part)
        assert not store.exists(key)
        writer.commit()
        assert store.exists(key)
        assert store.size(key) == sum(len(p) for p in parts)
        chunks = list(store.read(key, chunk_size=64 * 1024))
        assert all(len(chunk) <= 64 * 1024 for chunk in chunks)
        assert b"".join(chunks) == b"".join(parts)
        assert key in set(store.keys())

    def test_an_aborted_blob_leaves_nothing(self, store: BlobStore) -> None:
        key = new_key()
        writer = store.create(key)
        writer.write(b"x" * 100_000)
        writer.abort()
        writer.abort()
        assert not store.exists(key)
        assert key not in set(store.keys())
        with pytest.raises(BlobNotFound):
            list(store.read(key))
        with pytest.raises(BlobNotFound):
            store.size(key)

    def test_a_key_is_written_once(self, store: BlobStore) -> None:
        key = new_key()
        writer = store.create(key)
        writer.write(b"first")
        writer.commit()
        with pytest.raises(BlobExists):
            second = store.create(key)
            second.write(b"second")
            second.commit()
        assert b"".join(store.read(key)) == b"first"

    def test_an_empty_blob(self, store: BlobStore) -> None:
        key = new_key()
        writer = store.create(key)
        writer.commit()
        assert store.exists(key)
        assert b"".join(store.read(key)) == b""

    @pytest.mark.parametrize(
        "key", ["../../etc/passwd", "ab/cd/../x.blob", "/abs.blob", "AB/CD/X.blob", "x", ""]
    )
    def test_only_server_generated_keys(self, store: BlobStore, key: str) -> None:
        with pytest.raises(ValueError):
            store.create(key)
        with pytest.raises(ValueError):
            store.exists(key)
