"""Error reports: with SENTRY_DSN pointing at a loopback HTTP server standing in for Sentry, an
exception in a view and a failing django-q2 task arrive there as events, with the release, and
without an email address or a token path in them."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Queue, Value
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import sentry_sdk
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.monitor import monitor
from django_q.signing import SignedPackage
from django_q.tasks import async_task
from django_q.worker import worker
from werkzeug.test import Client as WerkzeugClient

from ops.sentry import release_name, scrub, sentry_init

ADDRESS = "pat.manager@client.example"
TOKEN = "k3Yx9Qw2SecretInviteToken"


class Envelopes:
    """What Sentry's HTTP transport posted: each envelope's items as (header, payload)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.lock = threading.Lock()

    def add(self, body: bytes) -> None:
        with self.lock:
            self.bodies.append(body)

    def items(self) -> list[tuple[dict[str, Any], bytes]]:
        found = []
        for body in list(self.bodies):
            stream = io.BytesIO(body)
            stream.readline()  # the envelope's own header
            while line := stream.readline():
                if not line.strip():
                    continue
                header = json.loads(line)
                if "length" in header:
                    payload = stream.read(header["length"])
                    stream.readline()
                else:
                    payload = stream.readline().rstrip(b"\n")
                found.append((header, payload))
        return found

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(payload) for header, payload in self.items() if header.get("type") == "event"]


@pytest.fixture
def sentry_server() -> Iterator[tuple[str, Envelopes]]:
    received = Envelopes()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            encoding = self.headers.get("Content-Encoding", "")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            elif encoding:
                raise AssertionError(f"unexpected Content-Encoding {encoding}")
            if self.path.endswith("/envelope/"):
                received.add(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://public@127.0.0.1:{server.server_address[1]}/1", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def sentry(sentry_server: tuple[str, Envelopes]) -> Iterator[Envelopes]:
    """sentry-sdk set up as config.settings does with SENTRY_DSN, and off again afterwards."""
    dsn, received = sentry_server
    sentry_init(dsn=dsn, environment="test")
    yield received
    sentry_sdk.flush(timeout=5)
    sentry_sdk.init()  # no DSN: the rest of the run reports nothing


def flushed(received: Envelopes) -> list[dict[str, Any]]:
    sentry_sdk.flush(timeout=10)
    return received.events()


def checkout_commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()  # noqa: S607


def failing_task(address: str) -> None:
    raise ValueError(f"could not file the mail of {address} (link /handoff/{TOKEN}/)")


def assert_scrubbed(received: Envelopes) -> None:
    everything = b"".join(received.bodies)
    assert ADDRESS.encode() not in everything
    assert ADDRESS.replace("@", "%40").encode() not in everything
    assert TOKEN.encode() not in everything
    assert b"p***@client.example" in everything  # the domain stays, as in the logs


def wsgi_get(url: str, host: str) -> int:
    """A GET through Django's WSGI handler, as gunicorn calls it (sentry-sdk reads the request
    there; Django's test client has a handler of its own). The handler's request signals would
    close the test's connection, so they are off meanwhile, as in the test client."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WerkzeugClient(get_wsgi_application()).get(url, headers={"Host": host})
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(response.status_code)


def test_an_exception_in_a_view_arrives_scrubbed_with_the_release(sentry, org):
    error = RuntimeError(f"lookup failed for {ADDRESS} at /invite/{TOKEN}/")
    with mock.patch("organizations.services.invitation_lookup", side_effect=error):
        status = wsgi_get(f"/invite/{TOKEN}/?email={ADDRESS.replace('@', '%40')}", org.host)
    assert status == 500

    (event,) = [e for e in flushed(sentry) if e.get("exception")]
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "lookup failed for p***@client.example at /invite/[redacted]/"
    assert event["request"]["url"] == f"http://{org.host}/invite/[redacted]/"
    assert event["request"]["query_string"] == "email=p***@client.example"
    assert event["release"] == checkout_commit()
    assert event["environment"] == "test"
    assert "user" not in event
    assert_scrubbed(sentry)


def test_a_failing_django_q_task_arrives_scrubbed_and_grouped_by_its_function(sentry, db):
    """django-q2's own worker and monitor (in this process, on the database broker): the worker
    catches the task's exception, the monitor logs the failure, the logging integration sends it."""
    async_task("tests.ops.test_sentry.failing_task", ADDRESS)
    broker = get_broker()
    tasks: Queue[Any] = Queue()
    results: Queue[Any] = Queue()
    for ack_id, payload in broker.dequeue() or []:
        task = SignedPackage.loads(payload)
        task["ack_id"] = ack_id
        tasks.put(task)
    tasks.put("STOP")
    # Conf.SYNC only keeps the test's database connection (and transaction) open; the task
    # itself runs as in a cluster, its exception caught by the worker.
    with mock.patch.object(Conf, "SYNC", True):
        worker(tasks, results, Value("f", -1))
        results.put("STOP")
        monitor(results, broker)

    (event,) = [e for e in flushed(sentry) if e.get("logger") == "django-q"]
    message = event["logentry"]["message"]
    assert message.startswith("Failed 'tests.ops.test_sentry.failing_task'")
    assert "ValueError: could not file the mail of p***@client.example (link /handoff/[redacted]/)" in message
    assert event["level"] == "error"
    assert event["fingerprint"] == ["django-q task failed", "tests.ops.test_sentry.failing_task"]
    assert event["release"] == checkout_commit()
    assert_scrubbed(sentry)


def test_scrubbing_reaches_every_string_however_deep():
    event = {"extra": {"rows": [("to", f"{ADDRESS}"), {"next": f"/feeds/{TOKEN}.ics"}]}, "n": 3}
    assert scrub(event) == {
        "extra": {"rows": [("to", "p***@client.example"), {"next": "/feeds/[redacted].ics"}]},
        "n": 3,
    }


def test_the_release_is_the_setting_else_the_checkouts_commit():
    assert release_name("projectr@2026.12.1") == "projectr@2026.12.1"
    assert release_name("") == checkout_commit()


def test_the_settings_start_sentry_with_sentry_dsn_and_only_then():
    code = (
        "import json, sentry_sdk; import config.settings; o = sentry_sdk.get_client().options; "
        "print(json.dumps([o['dsn'], o['environment'], o['release'], getattr(o['before_send'], '__module__', None)]))"
    )
    root = Path(__file__).resolve().parent.parent.parent
    environment = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50, "ANYMAIL_WEBHOOK_SECRET": "a:b"}
    environment["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"  # settings need no database
    environment.pop("SENTRY_RELEASE", None)

    def start(**env: str) -> list[Any]:
        result = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code], cwd=root, env={**environment, **env}, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout))

    assert start(SENTRY_DSN="http://public@127.0.0.1:9/1") == [
        "http://public@127.0.0.1:9/1",
        "production",
        checkout_commit(),
        "ops.sentry",
    ]
    assert start(SENTRY_DSN="http://public@127.0.0.1:9/1", SENTRY_RELEASE="projectr@7", SENTRY_ENVIRONMENT="staging")[
        1:3
    ] == ["staging", "projectr@7"]
    assert start(SENTRY_DSN="") == [None, None, None, None]  # never initialised
