"""A real S3 endpoint for tests: moto's server in a child process, on 127.0.0.1.

The S3 store is tested over HTTP, as in production, never with boto3 patched in-process. A
child process (rather than moto's in-process threaded server) keeps the server's own memory
out of the tests' ``tracemalloc`` figures. Authentication is on: the server checks every
request's signature against an IAM user created at start-up, so wrong credentials are refused
the way S3 refuses them.

Use the session fixture by importing it into a test module::

    from dcc.documents.tests.s3_server import s3_server_fixture  # noqa: F401

then ask for ``s3_server`` (an :class:`S3Server`)."""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType

REGION: BucketLocationConstraintType = "eu-west-3"
BUCKET = "dcc-test-blobs"
START_TIMEOUT = 30.0
# The requests made without authentication at start-up: create the IAM user, give it a
# policy, make its access key. Every later request must be signed with that key.
UNAUTHENTICATED_REQUESTS = 3
# Never through a proxy: the server is on this machine.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    region: str
    bucket: str
    access_key: str
    secret_key: str

    def options(self, **overrides: object) -> dict[str, object]:
        """Settings for ``from_settings`` (the shape of ``settings.DOCUMENT_S3``)."""
        options: dict[str, object] = {
            "bucket": self.bucket,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "prefix": "",
            "addressing_style": "path",
        }
        options.update(overrides)
        return options

    @functools.cached_property
    def client(self) -> S3Client:
        """A plain client, to look at the bucket behind a store's back."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # most likely the port was taken meanwhile
        try:
            with DIRECT.open(f"{url}/moto-api/data.json", timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"moto server did not start in {START_TIMEOUT} s:\n{log.read_text()}")


def _start(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    environment = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(UNAUTHENTICATED_REQUESTS)}
    for _ in range(5):
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 (fixed arguments)
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        if _wait_until_up(process, url, log):
            return process, url
    raise RuntimeError(f"moto server would not start:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _set_up(url: str) -> S3Server:
    iam = boto3.session.Session().client(
        "iam",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="unauthenticated",
        aws_secret_access_key="unauthenticated",  # noqa: S106 (not checked yet)
    )
    iam.create_user(UserName="dcc")
    iam.put_user_policy(UserName="dcc", PolicyName="s3", PolicyDocument=json.dumps(S3_POLICY))
    key = iam.create_access_key(UserName="dcc")["AccessKey"]
    server = S3Server(
        endpoint_url=url,
        region=REGION,
        bucket=BUCKET,
        access_key=key["AccessKeyId"],
        secret_key=key["SecretAccessKey"],
    )
    server.client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return server


@pytest.fixture(scope="session", name="s3_server")
def s3_server_fixture() -> Iterator[S3Server]:
    with (
        tempfile.TemporaryDirectory(prefix="dcc-moto-") as directory,
        pytest.MonkeyPatch.context() as patch,
    ):
        # botocore honours HTTP(S)_PROXY: a CI proxy must not see the test traffic.
        for name in ("NO_PROXY", "no_proxy"):
            patch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1"])))
        log = Path(directory) / "moto.log"
        process, url = _start(log)
        try:
            yield _set_up(url)
        finally:
            _stop(process)
