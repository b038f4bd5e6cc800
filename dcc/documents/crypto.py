"""Envelope encryption of document content: AES-256-GCM in authenticated segments.

Each blob has its own random 256-bit data key. The content is cut into segments of
``segment_size`` clear bytes; segment *i* is sealed with AES-256-GCM under the data key, with
the nonce ``prefix (7 bytes) ‖ i (4 bytes, big-endian) ‖ last (1 byte)`` and the blob's UUID
and header as associated data. A segment therefore cannot be altered, moved, swapped with another blob's
or dropped from the end without the tag check failing (the "last" byte closes the stream: an
empty content is one empty final segment). The blob starts with a 16-byte header naming the
format, the segment size and the nonce prefix, so that a blob can be decrypted with its
wrapped key alone.

The data key is kept only wrapped (AES-256-GCM, associated data = the blob's UUID) by a master
key derived (HKDF-SHA-256) from the secret in ``DCC_DOCUMENT_KEY``; rotating the master key
re-wraps the data keys (``dcc documents_rewrap``) and never re-encrypts content."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

MAGIC = b"DCCB"
FORMAT_VERSION = 1
HEADER = struct.Struct(">4sBI7s")  # magic, format, segment size, nonce prefix = 16 bytes
TAG_SIZE = 16
DEFAULT_SEGMENT_SIZE = 1 << 20
MAX_SEGMENTS = 1 << 32


class DecryptionError(Exception):
    """The blob is not what was written: altered, truncated, extended or under another key."""


def master_key(key_id: str) -> bytes:
    secrets_by_id: dict[str, bytes] = settings.DOCUMENT_KEYS
    try:
        secret = secrets_by_id[key_id]
    except KeyError:
        raise DecryptionError(f"unknown master key {key_id!r}") from None
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"dcc document master key v1"
    ).derive(secret)


def current_key_id() -> str:
    return str(settings.DOCUMENT_KEY_ID)


def _wrap_aad(blob_uuid: UUID) -> bytes:
    return b"dcc-data-key|" + blob_uuid.bytes


def wrap(data_key: bytes, blob_uuid: UUID, key_id: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(master_key(key_id)).encrypt(nonce, data_key, _wrap_aad(blob_uuid))


def unwrap(wrapped: bytes, blob_uuid: UUID, key_id: str) -> bytes:
    try:
        return AESGCM(master_key(key_id)).decrypt(
            bytes(wrapped[:12]), bytes(wrapped[12:]), _wrap_aad(blob_uuid)
        )
    except InvalidTag:
        raise DecryptionError("the data key does not unwrap under its master key") from None


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= MAX_SEGMENTS:
        raise ValueError("content too large for one blob")
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class SegmentEncryptor:
    """Feed clear bytes, get sealed bytes: memory stays within one segment plus one chunk."""

    def __init__(
        self, data_key: bytes, blob_uuid: UUID, segment_size: int = DEFAULT_SEGMENT_SIZE
    ) -> None:
        self.segment_size = segment_size
        self.nonce_prefix = os.urandom(7)
        self._aead = AESGCM(data_key)
        # The header is authenticated with every segment: its segment size cannot be changed.
        self._aad = blob_uuid.bytes + self.header()
        self._buffer = bytearray()
        self._index = 0
        self._header_sent = False

    def header(self) -> bytes:
        return HEADER.pack(MAGIC, FORMAT_VERSION, self.segment_size, self.nonce_prefix)

    def _seal(self, segment: bytes | bytearray | memoryview, last: bool) -> bytes:
        sealed = self._aead.encrypt(
            _nonce(self.nonce_prefix, self._index, last), segment, self._aad
        )
        self._index += 1
        return sealed

    def update(self, data: bytes) -> Iterator[bytes]:
        """Sealed output for ``data``; a full segment is sealed only once more data follows
        it (the final segment, even a full one, must carry the "last" mark)."""
        if not self._header_sent:
            self._header_sent = True
            yield self.header()
        buffer = self._buffer
        buffer += data
        size = self.segment_size
        if len(buffer) > size:
            start = 0
            # Segments are sealed straight from the buffer (no copy); it is resized only once
            # the view is released.
            with memoryview(buffer) as view:
                while len(buffer) - start > size:
                    yield self._seal(view[start : start + size], last=False)
                    start += size
            del buffer[:start]

    def finish(self) -> Iterator[bytes]:
        if not self._header_sent:
            self._header_sent = True
            yield self.header()
        yield self._seal(self._buffer, last=True)
        self._buffer.clear()


def decrypt(chunks: Iterable[bytes], data_key: bytes, blob_uuid: UUID) -> Iterator[bytes]:
    """Clear segments of a sealed blob read in ``chunks`` of any size; each one is released
    only after its tag checked, and a missing end, extra bytes or any alteration raise
    ``DecryptionError``."""
    aead = AESGCM(data_key)
    buffer = bytearray()
    iterator = iter(chunks)
    header_size = HEADER.size
    for chunk in iterator:
        buffer += chunk
        if len(buffer) >= header_size:
            break
    if len(buffer) < header_size:
        raise DecryptionError("blob shorter than its header")
    header = bytes(buffer[:header_size])
    magic, version, segment_size, prefix = HEADER.unpack(header)
    aad = blob_uuid.bytes + header
    if magic != MAGIC or version != FORMAT_VERSION or not 0 < segment_size <= 1 << 26:
        raise DecryptionError("not a dcc blob")
    del buffer[:header_size]
    sealed_size = segment_size + TAG_SIZE
    index = 0
    exhausted = False
    while True:
        # Keep more than one sealed segment in hand to know whether the current one is last.
        while not exhausted and len(buffer) <= sealed_size:
            try:
                buffer += next(iterator)
            except StopIteration:
                exhausted = True
        last = exhausted and len(buffer) <= sealed_size
        take = len(buffer) if last else sealed_size
        if take < TAG_SIZE:
            raise DecryptionError("blob truncated")
        try:
            clear = aead.decrypt(_nonce(prefix, index, last), bytes(buffer[:take]), aad)
        except InvalidTag:
            raise DecryptionError(f"segment {index} altered, moved or truncated") from None
        del buffer[:take]
        index += 1
        yield clear
        if last:
            return
