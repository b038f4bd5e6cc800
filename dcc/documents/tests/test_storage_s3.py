"""The S3 store against a real S3 endpoint (moto's server over HTTP on 127.0.0.1)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import socket
import time
import traceback
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dcc.documents.storage import s3
from dcc.documents.storage.base import BlobExists, BlobNotFound, BlobStore, BlobStoreError
from dcc.documents.storage.s3 import S3BlobStore, from_settings
from dcc.documents.tests.s3_server import S3Server, s3_server_fixture  # noqa: F401
from dcc.documents.tests.store_contract import StoreContract, new_key

MiB = 1024 * 1024
PART = 5 * MiB
# Irregular write sizes, one of them larger than a part.
CHUNK_SIZES = [1, 65_536, MiB, 7 * MiB, 333_333, 4095]

MakeStore = Callable[..., S3BlobStore]


@pytest.fixture
def make_store(s3_server: S3Server) -> MakeStore:
    """Stores on the test server, each under a prefix of its own unless told otherwise."""

    def make(**overrides: object) -> S3BlobStore:
        options = s3_server.options(prefix=f"test-{uuid.uuid4().hex[:12]}/")
        options.update(overrides)
        return from_settings(options)

    return make


class TestS3Store(StoreContract):
    @pytest.fixture
    def store(self, make_store: MakeStore) -> BlobStore:
        return make_store()  # mypy checks here that the S3 store has the protocol's shape


def pieces(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for size in itertools.cycle(CHUNK_SIZES):
        if not view:
            return
        yield bytes(view[:size])
        view = view[size:]


def write(store: S3BlobStore, key: str, data: bytes) -> None:
    writer = store.create(key)
    for piece in pieces(data):
        writer.write(piece)
    writer.commit()


def etag(s3_server: S3Server, store: S3BlobStore, key: str) -> str:
    head = s3_server.client.head_object(Bucket=store.bucket, Key=store.object_name(key))
    return head["ETag"].strip('"')


def pending(s3_server: S3Server, store: S3BlobStore) -> list[str]:
    listing = s3_server.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
    return [upload.get("Key", "") for upload in listing.get("Uploads", [])]


@pytest.mark.parametrize(
    ("size", "parts"),
    [
        pytest.param(PART - 1, 0, id="under-one-part"),
        pytest.param(PART, 0, id="exactly-one-part"),
        pytest.param(PART + 1, 2, id="one-part-and-a-byte"),
        pytest.param(2 * PART, 2, id="exactly-two-parts"),
        pytest.param(3 * PART + 123_457, 4, id="three-parts-and-a-remainder"),
    ],
)
def test_a_blob_is_one_put_or_a_multipart_upload_and_reads_back_identical(
    s3_server: S3Server, make_store: MakeStore, size: int, parts: int
) -> None:
    store = make_store(part_size=PART)
    key = new_key()
    data = os.urandom(size)
    write(store, key, data)
    assert store.size(key) == size
    chunks = list(store.read(key, chunk_size=MiB))
    assert all(len(chunk) <= MiB for chunk in chunks)
    assert b"".join(chunks) == data
    # A multipart object's ETag ends with its number of parts; a single PUT's has no dash.
    assert etag(s3_server, store, key).partition("-")[2] == (str(parts) if parts else "")
    assert pending(s3_server, store) == []


def test_an_abort_after_some_parts_leaves_no_object_and_no_upload(
    s3_server: S3Server, make_store: MakeStore
) -> None:
    store = make_store(part_size=PART)
    key = new_key()
    writer = store.create(key)
    for piece in pieces(os.urandom(2 * PART + PART // 2)):
        writer.write(piece)
    assert [upload.key for upload in store.pending_uploads()] == [key]
    assert not store.exists(key)
    writer.abort()
    writer.abort()
    assert pending(s3_server, store) == []
    assert list(store.pending_uploads()) == []
    assert not store.exists(key)
    assert list(store.keys()) == []


def test_a_blob_too_large_for_its_parts_fails_and_leaves_nothing(
    s3_server: S3Server, make_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3, "MAX_PARTS", 2)
    store = make_store(part_size=PART)
    key = new_key()
    writer = store.create(key)
    with pytest.raises(BlobStoreError, match="exceeds 2 parts"):
        for piece in pieces(os.urandom(3 * PART + 1)):
            writer.write(piece)
    assert pending(s3_server, store) == []
    assert not store.exists(key)
    with pytest.raises(BlobStoreError):
        writer.write(b"more")
    writer.abort()


def test_writing_keeps_memory_to_about_one_part(make_store: MakeStore) -> None:
    store = make_store(part_size=PART)
    key = new_key()
    chunk = os.urandom(MiB)
    size = 4 * PART + MiB
    writer = store.create(key)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        for _ in range(size // MiB):
            writer.write(chunk)
        writer.commit()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    print(
        f"write peak {peak / MiB:.2f} MiB for a {size / MiB:.0f} MiB blob, {PART / MiB:.0f} MiB parts"
    )
    assert peak < 1.5 * PART
    assert store.size(key) == size

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        digest = hashlib.sha256()
        for piece in store.read(key, chunk_size=MiB):
            digest.update(piece)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    print(f"read peak {peak / MiB:.2f} MiB in 1 MiB chunks")
    assert peak < 4 * MiB
    expected = hashlib.sha256()
    for _ in range(size // MiB):
        expected.update(chunk)
    assert digest.digest() == expected.digest()


@pytest.mark.parametrize("size", [1000, PART + 1], ids=["put", "multipart"])
def test_a_concurrent_writer_of_the_same_key_is_refused_by_the_server(
    s3_server: S3Server, make_store: MakeStore, size: int
) -> None:
    store = make_store(part_size=PART)
    key = new_key()
    first = store.create(key)
    second = store.create(key)  # both before either commits: only the server can refuse
    first_data, second_data = os.urandom(size), os.urandom(size)
    for piece in pieces(first_data):
        first.write(piece)
    for piece in pieces(second_data):
        second.write(piece)
    first.commit()
    with pytest.raises(BlobExists):
        second.commit()
    assert b"".join(store.read(key)) == first_data
    assert pending(s3_server, store) == []


@pytest.mark.parametrize(
    ("size", "operation", "statuses"),
    [(1000, "PutObject", [200, 412]), (PART + 1, "CompleteMultipartUpload", [200, 200])],
    ids=["put", "multipart"],
)
def test_a_commit_retried_after_a_lost_response_meets_its_own_object(
    make_store: MakeStore, size: int, operation: str, statuses: list[int]
) -> None:
    store = make_store(part_size=PART)
    seen: list[int] = []

    def resend_once(response: Any = None, attempts: int = 0, **kwargs: Any) -> int | None:
        if response is None:
            return None
        seen.append(response[0].status_code)
        # The object was written but the client never heard: the SDK sends it again.
        return 0 if attempts == 1 else None

    # The stubs type every handler as returning None; needs-retry ones return a delay.
    store.client.meta.events.register_first(f"needs-retry.s3.{operation}", resend_once)  # type: ignore[arg-type]
    key = new_key()
    data = os.urandom(size)
    write(store, key, data)
    assert seen == statuses
    assert b"".join(store.read(key)) == data


@pytest.mark.parametrize("size", [1000, 2 * PART + 1], ids=["put", "multipart"])
def test_every_upload_carries_the_md5_of_its_bytes(make_store: MakeStore, size: int) -> None:
    store = make_store(part_size=PART)
    sent: list[tuple[str, bool]] = []

    def check(request: Any, event_name: str, **kwargs: Any) -> None:
        body = bytes(request.body)
        md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
        header = request.headers.get("Content-MD5", b"")
        header = header.decode() if isinstance(header, bytes) else header
        sent.append((event_name.rsplit(".", 1)[-1], header == md5))

    for operation in ("PutObject", "UploadPart"):
        store.client.meta.events.register(f"before-send.s3.{operation}", check)
    write(store, new_key(), os.urandom(size))
    expected = [("PutObject", True)] if size < PART else [("UploadPart", True)] * 3
    assert sent == expected


def test_keys_lists_only_the_store_prefix(s3_server: S3Server, make_store: MakeStore) -> None:
    base = uuid.uuid4().hex[:8]
    first = make_store(prefix=f"{base}/a/")
    second = make_store(prefix=f"/{base}/b")  # slashes at either end are normalised
    nested = make_store(prefix=f"{base}/a/nested")
    assert second.prefix == f"{base}/b/"
    keys = {store: new_key() for store in (first, second, nested)}
    for store, key in keys.items():
        write(store, key, store.prefix.encode())
    s3_server.client.put_object(Bucket=first.bucket, Key=f"{base}/a/notes.txt", Body=b"x")
    assert list(first.keys()) == [keys[first]]
    assert list(second.keys()) == [keys[second]]
    assert list(nested.keys()) == [keys[nested]]
    assert not first.exists(keys[second])
    assert b"".join(second.read(keys[second])) == f"{base}/b/".encode()
    listing = s3_server.client.list_objects_v2(Bucket=first.bucket, Prefix=f"{base}/")
    assert sorted(item.get("Key", "") for item in listing.get("Contents", [])) == sorted(
        [f"{base}/a/{keys[first]}", f"{base}/a/notes.txt", f"{base}/a/nested/{keys[nested]}"]
        + [f"{base}/b/{keys[second]}"]
    )


def assert_refused_without_secret(action: Callable[[], object], secret: str) -> BlobStoreError:
    started = time.monotonic()
    with pytest.raises(BlobStoreError) as caught:
        action()
    assert time.monotonic() - started < 4
    assert not isinstance(caught.value, BlobNotFound)
    assert secret not in "".join(traceback.format_exception(caught.value))
    return caught.value


OPERATIONS: dict[str, Callable[[S3BlobStore], object]] = {
    "create": lambda store: store.create(new_key()),
    "exists": lambda store: store.exists(new_key()),
    "size": lambda store: store.size(new_key()),
    "read": lambda store: list(store.read(new_key())),
    "keys": lambda store: list(store.keys()),
    "check": lambda store: store.check(),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_wrong_credentials_fail_at_once_without_the_secret(
    make_store: MakeStore, operation: str
) -> None:
    secret = f"wrong-{uuid.uuid4().hex}"
    store = make_store(secret_key=secret)
    error = assert_refused_without_secret(lambda: OPERATIONS[operation](store), secret)
    assert "HTTP 403" in str(error)


@pytest.fixture(params=["refused", "silent"])
def dead_endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    """A port where nothing listens, or where a server accepts and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        if request.param == "silent":
            sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("operation", ["exists", "read", "check"])
def test_an_unreachable_endpoint_fails_quickly_without_the_secret(
    s3_server: S3Server, dead_endpoint: str, operation: str
) -> None:
    store = from_settings(
        s3_server.options(
            endpoint_url=dead_endpoint, connect_timeout=0.3, read_timeout=0.3, max_retries=0
        )
    )
    error = assert_refused_without_secret(
        lambda: OPERATIONS[operation](store), s3_server.secret_key
    )
    assert f"s3://{s3_server.bucket}/" in str(error)


def test_check_names_a_missing_bucket(make_store: MakeStore) -> None:
    make_store().check()
    with pytest.raises(BlobStoreError, match="404"):
        make_store(bucket="dcc-no-such-bucket").check()


def test_a_writer_takes_nothing_after_commit_or_abort(make_store: MakeStore) -> None:
    store = make_store()
    writer = store.create(new_key())
    writer.write(b"done")
    writer.commit()
    writer.abort()  # a no-op after commit
    with pytest.raises(BlobStoreError):
        writer.write(b"more")
    with pytest.raises(BlobStoreError):
        writer.commit()


def test_settings_build_the_store(s3_server: S3Server) -> None:
    store = from_settings(
        s3_server.options(prefix="dcc", part_size=str(6 * MiB), connect_timeout="2", region="")
    )
    assert (store.kind, store.prefix, store.part_size) == ("s3", "dcc/", 6 * MiB)
    config = vars(store.client.meta.config)  # the stubs do not declare Config's attributes
    assert config["connect_timeout"] == 2
    # botocore's max_attempts counts retries: five retries are six attempts.
    assert config["retries"] == {"mode": "standard", "total_max_attempts": 6}
    assert config["s3"] == {"addressing_style": "path"}


def test_settings_without_credentials_use_the_default_chain() -> None:
    store = from_settings(
        {
            "bucket": "dcc",
            "endpoint_url": None,
            "region": "eu-west-3",
            "access_key": "",
            "secret_key": "",
            "prefix": "dcc/",
            "addressing_style": "path",
        }
    )
    assert (store.bucket, store.prefix, store.part_size) == ("dcc", "dcc/", 8 * MiB)
    assert store.client.meta.region_name == "eu-west-3"


@pytest.mark.parametrize(
    "overrides",
    [
        {"bucket": ""},
        {"colour": "blue"},
        {"part_size": MiB},
        {"part_size": "eight"},
        {"part_size": True},
        {"part_size": 6 * MiB + 0.5},
        {"addressing_style": "sideways"},
        {"prefix": "../up"},
        {"secret_key": ""},
        {"endpoint_url": 8080},
    ],
)
def test_settings_refuse_bad_values(s3_server: S3Server, overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        from_settings(s3_server.options(**overrides))
