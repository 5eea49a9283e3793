"""The webhook reads nothing of a request before its credentials are checked, and never more than
its cap after: requests go through Django's real WSGI handler (every middleware, our view,
anymail's) with a body that raises if anything reads it."""

from __future__ import annotations

import base64
import io
import json
import re
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test.client import ClientHandler

from inbound.models import Delivery, Verdict
from inbound.views import body_limit
from tests.inbound.conftest import AUTH, POSTMARK_URL, SES_URL, make_message, postmark_payload, ses_notification

SEVENTY_MB = 70 * 1024 * 1024
WRONG = "Basic " + base64.b64encode(b"webhook:guess").decode()


class UnreadableBody(io.RawIOBase):
    """A request body of any declared size that fails the test if anything reads it."""

    def read(self, *args: Any) -> bytes:
        raise AssertionError("the request body was read")

    readline = readinto = read  # type: ignore[assignment]


class CountingBody(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk


def wsgi_post(path: str, body: io.IOBase, length: int, **headers: str) -> Any:
    """POST through Django's WSGI request handling, as gunicorn hands a request over."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": settings.BASE_DOMAIN,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": settings.BASE_DOMAIN,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(length),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }
    return ClientHandler(enforce_csrf_checks=True)(environ)


@pytest.mark.parametrize("authorization", [None, WRONG])
def test_a_70_mb_postmark_request_with_bad_credentials_is_refused_unread(world, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = wsgi_post(POSTMARK_URL, UnreadableBody(), SEVENTY_MB, **headers)
    assert response.status_code == 400
    assert not Delivery.objects.exists()  # strangers write nothing either


def test_a_70_mb_ses_request_without_credentials_gets_the_challenge_unread(world):
    response = wsgi_post(SES_URL, UnreadableBody(), SEVENTY_MB, HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Anymail WEBHOOK_SECRET"'


def test_a_70_mb_ses_request_with_wrong_credentials_is_refused_unread(world):
    response = wsgi_post(SES_URL, UnreadableBody(), SEVENTY_MB, HTTP_AUTHORIZATION=WRONG)
    assert response.status_code == 400
    assert not Delivery.objects.exists()


def test_a_refused_stranger_costs_no_memory_for_the_body(world):
    wsgi_post(POSTMARK_URL, UnreadableBody(), 1000, HTTP_AUTHORIZATION=WRONG)  # warm: imports, caches
    tracemalloc.start()
    try:
        for _ in range(3):
            wsgi_post(POSTMARK_URL, UnreadableBody(), SEVENTY_MB, HTTP_AUTHORIZATION=WRONG)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, peak


class SpacesBody(io.RawIOBase):
    """A body of `length` spaces made as it is read: reading it costs memory, holding it none."""

    def __init__(self, length: int) -> None:
        self.left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self.left)
        buffer[:size] = b" " * size
        self.left -= size
        return size


def peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM back to the current RSS


def peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) / 1024  # type: ignore[union-attr]


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "authorization"),
    [(POSTMARK_URL, WRONG), (POSTMARK_URL, None), (SES_URL, WRONG), (SES_URL, None)],
    ids=["postmark-wrong", "postmark-none", "ses-wrong", "ses-none"],
)
def test_three_70_mb_stranger_requests_leave_the_workers_peak_rss_where_it_was(world, path, authorization):
    """The test-sized bench/edge_memory.py: this process is the worker, the body one that would
    cost its 70 MB if anything read it."""
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    wsgi_post(path, SpacesBody(1000), 1000, **headers)  # warm: imports, caches
    peak_rss_reset()
    before = rss_mb()
    answers = {wsgi_post(path, SpacesBody(SEVENTY_MB), SEVENTY_MB, **headers).status_code for _ in range(3)}
    assert answers <= {400, 401}
    assert peak_rss_mb() - before < 8


def test_the_peak_rss_measure_sees_a_70_mb_body_that_is_read():
    peak_rss_reset()
    before = rss_mb()
    body = SpacesBody(SEVENTY_MB).read()
    assert peak_rss_mb() - before >= 70
    del body


@pytest.mark.parametrize(("path", "esp_name"), [(POSTMARK_URL, "Postmark"), (SES_URL, "Amazon SES")])
def test_an_authenticated_request_declaring_more_than_the_cap_is_refused_unread(world, path, esp_name):
    response = wsgi_post(path, UnreadableBody(), body_limit(esp_name) + 1, HTTP_AUTHORIZATION=AUTH)
    assert response.status_code == 413
    delivery = Delivery.objects.get()
    assert (delivery.verdict, delivery.reason) == (Verdict.INVALID, "Payload too large")


def test_the_caps_default_to_three_messages_for_postmark_and_what_sns_can_send_for_ses():
    assert body_limit("Postmark") == 3 * settings.INBOUND_MAX_MESSAGE_BYTES + 1024 * 1024
    assert body_limit("Amazon SES") == 2 * 256 * 1024 + 64 * 1024


def test_the_ses_url_refuses_a_body_larger_than_sns_sends(world):
    body = json.dumps(ses_notification(make_message(body="x" * 700_000))).encode()
    response = wsgi_post(SES_URL, CountingBody(body), len(body), HTTP_AUTHORIZATION=AUTH)
    assert response.status_code == 413


def test_the_cap_is_a_setting(world, settings):
    body = json.dumps(postmark_payload(make_message())).encode()
    settings.INBOUND_MAX_BODY_BYTES = len(body) - 1
    assert wsgi_post(POSTMARK_URL, CountingBody(body), len(body), HTTP_AUTHORIZATION=AUTH).status_code == 413
    settings.INBOUND_MAX_BODY_BYTES = len(body)
    counting = CountingBody(body)
    assert wsgi_post(POSTMARK_URL, counting, len(body), HTTP_AUTHORIZATION=AUTH).status_code == 200
    assert counting.read_bytes == len(body)


def test_a_body_longer_than_declared_is_read_no_further_than_declared(world):
    body = json.dumps(postmark_payload(make_message())).encode()
    counting = CountingBody(body + b" " * 5_000_000)
    assert wsgi_post(POSTMARK_URL, counting, len(body), HTTP_AUTHORIZATION=AUTH).status_code == 200
    assert counting.read_bytes == len(body)
