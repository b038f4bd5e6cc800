"""Segmented AES-256-GCM: every clear byte comes back, any change to a sealed byte is caught."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcc.documents import crypto

SEGMENT = 64


def seal(data: bytes, blob: uuid.UUID, key: bytes, pieces: list[int] | None = None) -> bytes:
    encryptor = crypto.SegmentEncryptor(key, blob, SEGMENT)
    out: list[bytes] = []
    position = 0
    for size in pieces or [len(data)]:
        out.extend(encryptor.update(data[position : position + size]))
        position += size
    out.extend(encryptor.update(data[position:]))
    out.extend(encryptor.finish())
    return b"".join(out)


def open_(sealed: bytes, blob: uuid.UUID, key: bytes, chunk: int = 7) -> bytes:
    chunks = [sealed[i : i + chunk] for i in range(0, len(sealed), chunk)]
    return b"".join(crypto.decrypt(chunks, key, blob))


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=5 * SEGMENT + 3),
    pieces=st.lists(st.integers(min_value=0, max_value=3 * SEGMENT), max_size=6),
    chunk=st.integers(min_value=1, max_value=4 * SEGMENT),
)
def test_any_content_in_any_chunking_comes_back(data: bytes, pieces: list[int], chunk: int) -> None:
    key, blob = os.urandom(32), uuid.uuid4()
    sealed = seal(data, blob, key, pieces)
    # Exact multiples of the segment size end with a full final segment; empty content is
    # one empty final segment.
    segments = max(1, -(-len(data) // SEGMENT))
    assert len(sealed) == crypto.HEADER.size + len(data) + segments * crypto.TAG_SIZE
    assert open_(sealed, blob, key, chunk) == data


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=4 * SEGMENT),
    where=st.integers(min_value=0),
    bit=st.integers(0, 7),
)
def test_a_flipped_bit_anywhere_is_caught(data: bytes, where: int, bit: int) -> None:
    key, blob = os.urandom(32), uuid.uuid4()
    sealed = bytearray(seal(data, blob, key))
    sealed[where % len(sealed)] ^= 1 << bit
    with pytest.raises(crypto.DecryptionError):
        open_(bytes(sealed), blob, key)


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT])
def test_truncation_extension_and_reordering_are_caught(size: int) -> None:
    key, blob = os.urandom(32), uuid.uuid4()
    data = os.urandom(size)
    sealed = seal(data, blob, key)
    body = sealed[crypto.HEADER.size :]
    sealed_segment = SEGMENT + crypto.TAG_SIZE
    cases = [sealed[:-1], sealed + b"\x00", sealed + sealed[crypto.HEADER.size :]]
    if len(body) > sealed_segment:
        # Drop the final segment: the one before is not marked last.
        cases.append(sealed[: crypto.HEADER.size + sealed_segment])
        # Swap the first two segments.
        first, second = body[:sealed_segment], body[sealed_segment : 2 * sealed_segment]
        cases.append(sealed[: crypto.HEADER.size] + second + first + body[2 * sealed_segment :])
    for case in cases:
        with pytest.raises(crypto.DecryptionError):
            open_(case, blob, key)


def test_a_blob_opens_only_as_itself_and_under_its_key() -> None:
    key, blob = os.urandom(32), uuid.uuid4()
    sealed = seal(b"compte rendu", blob, key)
    with pytest.raises(crypto.DecryptionError):
        open_(sealed, uuid.uuid4(), key)
    with pytest.raises(crypto.DecryptionError):
        open_(sealed, blob, os.urandom(32))
    with pytest.raises(crypto.DecryptionError):
        open_(b"not a blob at all", blob, key)


def test_data_keys_are_wrapped_bound_to_their_blob_and_rewrapped(settings: object) -> None:
    from django.conf import settings as django_settings

    data_key, blob = os.urandom(32), uuid.uuid4()
    wrapped = crypto.wrap(data_key, blob, crypto.current_key_id())
    assert data_key not in wrapped
    assert crypto.unwrap(wrapped, blob, crypto.current_key_id()) == data_key
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap(wrapped, uuid.uuid4(), crypto.current_key_id())
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap(wrapped, blob, "no-such-key")
    keys = dict(django_settings.DOCUMENT_KEYS)
    keys["d2"] = b"a-new-master-key-" + b"n" * 32
    settings.DOCUMENT_KEYS = keys  # type: ignore[attr-defined]
    rewrapped = crypto.wrap(crypto.unwrap(wrapped, blob, crypto.current_key_id()), blob, "d2")
    assert crypto.unwrap(rewrapped, blob, "d2") == data_key
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap(rewrapped, blob, crypto.current_key_id())
