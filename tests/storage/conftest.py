"""A real S3-compatible server on loopback (moto's server mode) for the whole session, and the
test settings switched to it: the product's own storage class, settings and boto3 clients talk
HTTP to it, nothing of ours is mocked.

The server can be stopped and started again in the middle of a test (a bucket outage): its
objects live in the test process, so they survive the restart, as a real bucket's would.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from tests.events.test_invitations import harbour, harbour_unfiled  # noqa: F401 - fixtures
from tests.inbound.conftest import post_postmark, post_sns, stored, webhook  # noqa: F401 - fixtures

REGION = "us-east-1"
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OutageMotoServer(ThreadedMotoServer):
    """moto's threaded server whose stop() is an outage: the listening socket closes and so does
    every open connection (a stopped werkzeug server keeps serving its keep-alive connections,
    which a client's connection pool would go on using)."""

    def __init__(self, port: int) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.running = False

    def _server_entry(self) -> None:
        server = self

        class Handler(MotoRequestHandler):
            def setup(self) -> None:
                super().setup()
                with server.lock:
                    server.connections.add(self.connection)

            def finish(self) -> None:
                with server.lock:
                    server.connections.discard(self.connection)
                super().finish()

        self._server = make_server(
            self._ip_address, self._port, DomainDispatcherApplication(create_backend_app), True, request_handler=Handler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    def start(self) -> None:
        super().start()
        self.running = True

    def stop(self) -> None:
        super().stop()
        assert self._server is not None
        self._server.server_close()
        with self.lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):  # already closed by the client
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()
        self.running = False


@dataclass
class S3:
    server: OutageMotoServer
    endpoint: str
    bucket: str  # the mail storage bucket
    ses_bucket: str  # where SES's S3 action puts received mail
    client: Any

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())


@dataclass
class MotoServer:
    server: OutageMotoServer
    endpoint: str
    client: Any


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per S3 request otherwise
    port = free_port()
    server = OutageMotoServer(port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, config=Config(retries={"max_attempts": 1}), **KEYS
    )
    yield MotoServer(server, endpoint, client)
    if server.running:
        server.stop()


def storage_options(s3: S3) -> dict[str, Any]:
    """What config.settings passes to the storage with MAIL_STORAGE_BUCKET set (and
    MAIL_STORAGE_ENDPOINT_URL pointing at the loopback server)."""
    return {
        "bucket_name": s3.bucket,
        "endpoint_url": s3.endpoint,
        "region_name": REGION,
        "access_key": KEYS["aws_access_key_id"],
        "secret_key": KEYS["aws_secret_access_key"],
        "default_acl": None,
        "querystring_auth": False,
        # As in production, with fewer retries (the outage tests fail requests on purpose).
        "client_config": Config(connect_timeout=3, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"}),
    }


@pytest.fixture
def s3(settings: Any, s3_server: MotoServer) -> Iterator[S3]:
    """Two new buckets on the server (the tests' organizations are created again in every
    test, with the same schema names): the mail storage, and SES's for its S3 action; the
    mail storage on the first, anymail's SES clients on the same server."""
    suffix = uuid.uuid4().hex[:12]
    s3 = S3(s3_server.server, s3_server.endpoint, f"mail-{suffix}", f"ses-{suffix}", s3_server.client)
    for bucket in (s3.bucket, s3.ses_bucket):
        s3.client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "organizations.storage.TenantS3Storage", "OPTIONS": storage_options(s3)},
    }
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "AMAZON_SES_CLIENT_PARAMS": {"region_name": REGION, "endpoint_url": s3.endpoint, **KEYS},
    }
    yield s3
    if not s3.server.running:  # a test that stopped it and failed before starting it again
        s3.server.start()
