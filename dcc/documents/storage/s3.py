"""Blobs in an S3-compatible object store (AWS S3, OVHcloud, Scaleway, MinIO, Ceph RGW).

How a blob is written. The writer keeps at most one part in memory (``part_size``, 8 MiB by
default; S3 refuses parts under 5 MiB except the last). A blob that fits in one part is a single
PutObject at ``commit``; a larger one becomes a multipart upload, created when the first part
is full, and completed at ``commit``. Until then nothing is visible under the key: S3 shows an
object only once its PutObject or CompleteMultipartUpload has succeeded. ``abort`` (and any
failure while writing) aborts the multipart upload, so not even the uploaded parts are kept.

A key is never overwritten. ``create`` refuses a key that exists, and ``commit`` writes with
``If-None-Match: *`` (PutObject and CompleteMultipartUpload), so a concurrent writer of the
same key loses at the server, not in a check-then-write race: HTTP 412 PreconditionFailed, or
409 ConditionalRequestConflict when both arrive together, becomes ``BlobExists``. Each write
carries a random token in its metadata: when a retry after a lost response finds the object
already there, the token tells our own object from someone else's. AWS S3 (since 2024), recent
MinIO and moto honour the condition on both requests; a store that ignores it on
CompleteMultipartUpload (older Ceph RGW or MinIO) leaves only ``create``'s existence check,
with a race window from ``create`` to ``commit``. Keys are random UUIDs, so only a bug can race
there, and bucket versioning keeps what such a race would overwrite.

Integrity. Every PutObject and UploadPart carries ``Content-MD5`` of its bytes; the server
refuses a body that does not match (``BadDigest``). MD5 rather than the newer
``x-amz-checksum-*`` headers because every S3-compatible store checks it; for the same reason
the SDK's own default checksums (CRC32 on every upload since botocore 1.36, which many
S3-compatible stores, older MinIO and Ceph RGW among them, refuse) are turned off. Reads are not checked
here: blobs are AES-256-GCM sealed segments, so altered bytes fail decryption.

Configuration (``from_settings``; ``DCC_S3_*`` variables): ``bucket``, ``endpoint_url``,
``region``, ``access_key`` and ``secret_key``, ``prefix`` (all keys go under it, e.g. ``dcc/``),
``part_size``, ``addressing_style``, and optionally ``connect_timeout`` and ``read_timeout``
(seconds, default 10 and 60) and ``max_retries`` (default 5, in botocore's "standard" mode:
throttling, 5xx and network errors are retried with backoff; 4xx answers are not). ``check``
fails unless the bucket is there and the credentials work: a start-up or health check.

- AWS S3: no endpoint, the bucket's ``region``; credentials may be left empty to use the
  instance or task role (the SDK's default chain).
- OVHcloud: ``endpoint_url=https://s3.<region>.io.cloud.ovh.net``, ``region`` e.g. ``gra``.
- Scaleway: ``endpoint_url=https://s3.<region>.scw.cloud``, ``region`` e.g. ``fr-par``.
- MinIO: ``endpoint_url=https://minio.example:9000``, ``region=us-east-1`` (or the one set in
  MinIO), ``addressing_style=path``.
- Ceph RGW: ``endpoint_url=https://rgw.example``, ``region`` = the zonegroup name (often
  ``default``), ``addressing_style=path`` unless wildcard DNS is set up for the bucket names.

On the bucket: turn on versioning and Object Lock (compliance or governance retention), since
the application never deletes or replaces a blob and nothing else should; add a lifecycle rule
``AbortIncompleteMultipartUpload`` after a day or two, which removes the parts of uploads a
crashed process left behind (never a committed object; ``pending_uploads`` lists them). The
credentials need ``s3:GetObject``, ``s3:PutObject``, ``s3:ListBucket``,
``s3:AbortMultipartUpload`` and ``s3:ListBucketMultipartUploads`` on the bucket and the
prefix; without ``s3:ListBucket`` S3 answers a missing key with 403 instead of 404.

A blob can have at most 10,000 parts: ``part_size`` × 10,000 bytes (78 GiB with 8 MiB parts)."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import re
import secrets
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Literal, NamedTuple, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from dcc.documents.storage.base import BlobExists, BlobNotFound, BlobStoreError, check_key

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
DEFAULT_PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000
# User metadata (x-amz-meta-dcc-writer) naming the writer of an object.
WRITER_FIELD = "dcc-writer"

AddressingStyle = Literal["auto", "path", "virtual"]
ADDRESSING_STYLES: tuple[AddressingStyle, ...] = ("auto", "path", "virtual")
SETTINGS_KEYS = frozenset(
    {
        "bucket",
        "endpoint_url",
        "region",
        "access_key",
        "secret_key",
        "prefix",
        "part_size",
        "addressing_style",
        "connect_timeout",
        "read_timeout",
        "max_retries",
    }
)
PREFIX_PATTERN = re.compile(r"^([A-Za-z0-9_-][A-Za-z0-9._-]*/)*$")
NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


# Building a client from a new session loads the S3 service model again (tens of
# milliseconds); sessions are not thread-safe, hence the lock.
_SESSION_LOCK = threading.Lock()


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


class PendingUpload(NamedTuple):
    """A multipart upload never completed nor aborted (a crash while writing)."""

    key: str
    upload_id: str
    initiated: datetime


def _content_md5(data: bytes | bytearray) -> str:
    # Integrity in transit, not a security function.
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def _body(buffer: bytearray) -> bytes:
    # botocore sends a bytearray as it is (its validator accepts one; the stubs say bytes):
    # no copy of the part.
    return cast(bytes, buffer)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _is_not_found(error: ClientError) -> bool:
    return _code(error) in NOT_FOUND_CODES


def _is_conflict(error: ClientError) -> bool:
    return _code(error) in CONFLICT_CODES or _status(error) == 412


class S3BlobWriter:
    """One blob being written: at most one part buffered, parts sent as they fill."""

    def __init__(self, store: S3BlobStore, key: str) -> None:
        self._store = store
        self._key = key
        self._name = store.object_name(key)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []
        self._token = secrets.token_hex(16)
        self._done = False

    def write(self, data: bytes) -> None:
        if self._done:
            raise BlobStoreError("blob already committed or aborted")
        part_size = self._store.part_size
        view = memoryview(data).cast("B")
        while view:
            # A full buffer is sent only when more bytes follow, so that a blob of exactly
            # one part is a single PutObject and the last part is never empty.
            if len(self._buffer) == part_size:
                self._send_part()
            room = part_size - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]

    def commit(self) -> None:
        if self._done:
            raise BlobStoreError("blob already committed or aborted")
        client, bucket = self._store.client, self._store.bucket
        try:
            if self._upload_id is None:
                client.put_object(
                    Bucket=bucket,
                    Key=self._name,
                    Body=_body(self._buffer),
                    ContentMD5=_content_md5(self._buffer),
                    ContentType="application/octet-stream",
                    Metadata={WRITER_FIELD: self._token},
                    IfNoneMatch="*",
                )
            else:
                if self._buffer:
                    self._send_part()
                client.complete_multipart_upload(
                    Bucket=bucket,
                    Key=self._name,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                    IfNoneMatch="*",
                )
        except ClientError as error:
            if _is_conflict(error) and self._store._written_by(self._key, self._token):
                # Our own write succeeded, its response was lost and the SDK's retry met
                # the object it had just created.
                self._finish()
                return
            self._fail()
            if _is_conflict(error):
                raise BlobExists(self._key) from error
            raise self._store._failure(error, "commit", self._key) from error
        except BlobStoreError:
            self._fail()
            raise
        except BotoCoreError as error:
            self._fail()
            raise self._store._failure(error, "commit", self._key) from error
        self._finish()

    def abort(self) -> None:
        if self._done:
            return
        self._finish()
        if self._upload_id is None:
            return
        try:
            self._store.client.abort_multipart_upload(
                Bucket=self._store.bucket, Key=self._name, UploadId=self._upload_id
            )
        except ClientError as error:
            if _code(error) == "NoSuchUpload":
                return
            raise self._store._failure(error, "abort", self._key) from error
        except BotoCoreError as error:
            raise self._store._failure(error, "abort", self._key) from error

    def _send_part(self) -> None:
        number = len(self._parts) + 1
        client, bucket = self._store.client, self._store.bucket
        try:
            if number > MAX_PARTS:
                raise BlobStoreError(
                    f"blob {self._key} exceeds {MAX_PARTS} parts of {self._store.part_size} bytes"
                )
            if self._upload_id is None:
                created = client.create_multipart_upload(
                    Bucket=bucket,
                    Key=self._name,
                    ContentType="application/octet-stream",
                    Metadata={WRITER_FIELD: self._token},
                )
                self._upload_id = created["UploadId"]
            sent = client.upload_part(
                Bucket=bucket,
                Key=self._name,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=_body(self._buffer),
                ContentMD5=_content_md5(self._buffer),
            )
        except BlobStoreError:
            self._fail()
            raise
        except (BotoCoreError, ClientError) as error:
            self._fail()
            raise self._store._failure(error, "write", self._key) from error
        self._parts.append({"ETag": sent["ETag"], "PartNumber": number})
        self._buffer.clear()

    def _finish(self) -> None:
        self._done = True
        self._buffer = bytearray()

    def _fail(self) -> None:
        """Leave nothing behind after a failure; the original error is what matters."""
        # If even the abort fails, the bucket's AbortIncompleteMultipartUpload rule removes
        # the parts later.
        with contextlib.suppress(BlobStoreError):
            self.abort()


class S3BlobStore:
    """Blobs under ``prefix`` in one bucket of an S3-compatible object store."""

    kind = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "",
        part_size: int = DEFAULT_PART_SIZE,
        addressing_style: AddressingStyle | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        max_retries: int = 5,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        if (access_key is None) != (secret_key is None):
            raise ValueError("give both the S3 access key and secret key, or neither")
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size must be between 5 MiB and 5 GiB; got {part_size}")
        if addressing_style is not None and addressing_style not in ADDRESSING_STYLES:
            raise ValueError(
                f"addressing_style must be auto, path or virtual; got {addressing_style!r}"
            )
        prefix = prefix.strip("/")
        prefix = f"{prefix}/" if prefix else ""
        if not PREFIX_PATTERN.fullmatch(prefix):
            raise ValueError(f"not a usable S3 key prefix: {prefix!r}")
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self._secrets = tuple(s for s in (secret_key,) if s)
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # botocore's max_attempts counts the retries after the first attempt.
            retries={"max_attempts": max_retries, "mode": "standard"},
            s3={"addressing_style": addressing_style or "auto"},
            # Content-MD5 only (see the module docstring).
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A client is thread-safe once built: one per store, shared by all its requests.
        with _SESSION_LOCK:
            self.client: S3Client = _session().client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                config=config,
            )

    def object_name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def create(self, key: str) -> S3BlobWriter:
        if self.exists(key):
            raise BlobExists(key)
        return S3BlobWriter(self, key)

    def read(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_name(key))
        except (BotoCoreError, ClientError) as error:
            raise self._failure(error, "read", key) from error
        return self._chunks(response["Body"], key, chunk_size)

    def _chunks(self, body: StreamingBody, key: str, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(chunk_size)
        except (BotoCoreError, ClientError) as error:
            raise self._failure(error, "read", key) from error
        finally:
            body.close()

    def size(self, key: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except (BotoCoreError, ClientError) as error:
            raise self._failure(error, "size", key) from error
        return head["ContentLength"]

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as error:
            if _is_not_found(error):
                return False
            raise self._failure(error, "exists", key) from error
        except BotoCoreError as error:
            raise self._failure(error, "exists", key) from error
        return True

    def keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    name = item.get("Key", "")[len(self.prefix) :]
                    try:
                        yield check_key(name)
                    except ValueError:
                        continue
        except (BotoCoreError, ClientError) as error:
            raise self._failure(error, "keys", None) from error

    def _written_by(self, key: str, token: str) -> bool:
        """Whether the committed blob under ``key`` is the one the writer ``token`` wrote."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except (BotoCoreError, ClientError):
            return False
        return head.get("Metadata", {}).get(WRITER_FIELD) == token

    def pending_uploads(self) -> Iterator[PendingUpload]:
        """Multipart uploads under the prefix never completed nor aborted: parts a crashed
        process left behind, never visible under a key (the lifecycle rule removes them)."""
        paginator = self.client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for upload in page.get("Uploads", []):
                    yield PendingUpload(
                        key=upload["Key"][len(self.prefix) :],
                        upload_id=upload["UploadId"],
                        initiated=upload["Initiated"],
                    )
        except (BotoCoreError, ClientError) as error:
            raise self._failure(error, "pending uploads", None) from error

    def check(self) -> None:
        """Fail with ``BlobStoreError`` unless the bucket exists and the credentials work
        (``exists`` alone cannot tell a missing bucket from a missing key)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise self._failure(error, "check", None) from error

    def _failure(
        self, error: BotoCoreError | ClientError, action: str, key: str | None
    ) -> BlobStoreError:
        """The store's error for a botocore one: what failed and why, never a secret."""
        where = f"s3://{self.bucket}/{self.prefix}{key or ''}"
        if isinstance(error, ClientError):
            code = _code(error)
            request_id = error.response.get("ResponseMetadata", {}).get("RequestId", "")
            reason = f"{code or 'error'} (HTTP {_status(error)}"
            reason += f", request {request_id})" if request_id else ")"
            if key is not None and _is_not_found(error):
                return BlobNotFound(f"{action} {where}: {reason}")
        else:
            reason = f"{type(error).__name__}: {error}"
        message = f"{action} {where}: {reason}"
        for secret in self._secrets:
            message = message.replace(secret, "[secret]")
        return BlobStoreError(message)


def _text(options: Mapping[str, object], name: str) -> str | None:
    value = options.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"S3 option {name} must be a string; got {type(value).__name__}")
    return value


def _number(
    options: Mapping[str, object], name: str, kind: type[int] | type[float]
) -> float | None:
    value = options.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"S3 option {name} must be a number; got {type(value).__name__}")
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"S3 option {name} must be a whole number; got {value!r}")
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"S3 option {name} must be a {kind.__name__}; got {value!r}") from None


def from_settings(options: Mapping[str, object]) -> S3BlobStore:
    """A store from the ``DOCUMENT_S3`` settings mapping; empty values mean "not set"."""
    unknown = set(options) - SETTINGS_KEYS
    if unknown:
        raise ValueError(f"unknown S3 options: {', '.join(sorted(unknown))}")
    bucket = _text(options, "bucket")
    if bucket is None:
        raise ValueError("S3 option bucket is required")
    addressing_style = _text(options, "addressing_style")
    if addressing_style is not None and addressing_style not in ADDRESSING_STYLES:
        raise ValueError(
            f"S3 option addressing_style must be auto, path or virtual; got {addressing_style!r}"
        )
    part_size = _number(options, "part_size", int)
    connect_timeout = _number(options, "connect_timeout", float)
    read_timeout = _number(options, "read_timeout", float)
    max_retries = _number(options, "max_retries", int)
    return S3BlobStore(
        bucket=bucket,
        endpoint_url=_text(options, "endpoint_url"),
        region=_text(options, "region"),
        access_key=_text(options, "access_key"),
        secret_key=_text(options, "secret_key"),
        prefix=_text(options, "prefix") or "",
        part_size=DEFAULT_PART_SIZE if part_size is None else int(part_size),
        addressing_style=cast(AddressingStyle | None, addressing_style),
        connect_timeout=10.0 if connect_timeout is None else connect_timeout,
        read_timeout=60.0 if read_timeout is None else read_timeout,
        max_retries=5 if max_retries is None else int(max_retries),
    )
