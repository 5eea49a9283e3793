"""Token path segments (feeds, invitations, hand-offs, password resets) never reach a log: not
Django's warnings, not our JSON lines, not gunicorn's access log."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import Client

from ops.logs import redact_token_paths

ROOT = Path(__file__).resolve().parent.parent.parent
SECRET = "Zq9sEcReTtOkEn_x-1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"/feeds/{SECRET}.ics", "/feeds/[redacted].ics"),
        (
            f"/feeds/projects/0f8fad5b-d9cb-469f-a165-70867728950e/{SECRET}.ics",
            "/feeds/projects/0f8fad5b-d9cb-469f-a165-70867728950e/[redacted].ics",
        ),
        (f"GET /invite/{SECRET}/ HTTP/1.1", "GET /invite/[redacted]/ HTTP/1.1"),
        (f"/handoff/.eJx{SECRET}:1tZ:sig/", "/handoff/[redacted]/"),
        (f"/accounts/password/reset/key/3-{SECRET}/", "/accounts/password/reset/key/[redacted]/"),
        (f"/accounts/login/?next=%2Finvite%2F{SECRET}%2F&x=1", "/accounts/login/?next=%2Finvite%2F[redacted]%2F&x=1"),
        ("/projects/ and /feeds/ alone", "/projects/ and /feeds/ alone"),
    ],
)
def test_it_redacts_each_kind_of_token_path(text, expected):
    assert redact_token_paths(text) == expected


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.mark.parametrize("path", [f"/feeds/{SECRET}.ics", f"/invite/{SECRET}/", f"/handoff/{SECRET}/"])
def test_a_wrong_link_is_logged_without_its_token(path, world, console):
    response = Client(HTTP_HOST=world.org.host).get(path)
    assert response.status_code in (403, 404)
    written = console.getvalue()
    assert written, "the refusal was logged"
    assert SECRET not in written
    assert "[redacted]" in written


def test_the_json_line_redacts_extras_and_tracebacks(console):
    logger = logging.getLogger("django.request")
    try:
        raise ValueError(f"while serving /invite/{SECRET}/")
    except ValueError:
        logger.exception(
            "Failed %s", f"/feeds/{SECRET}.ics", extra={"request": f"<WSGIRequest: GET '/invite/{SECRET}/'>"}
        )
    line = console.getvalue().strip().splitlines()[-1]
    assert SECRET not in line
    entry = json.loads(line) if line.startswith("{") else {}
    if entry:  # LOG_FORMAT=json (tests run with DEBUG off)
        assert entry["request"] == "<WSGIRequest: GET '/invite/[redacted]/'>"
        assert "/invite/[redacted]/" in entry["exception"]


def test_gunicorns_access_log_redacts_the_request_line_path_query_and_referrer():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "-")
    logger = conf.logger_class(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/feeds/{SECRET}.ics?x=1",
        "PATH_INFO": f"/feeds/{SECRET}.ics",
        "QUERY_STRING": f"next=/invite/{SECRET}/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://acme.example/handoff/{SECRET}/",
    }
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, dt.timedelta(milliseconds=3))
    line = config.access_log_format % atoms
    assert SECRET not in line
    assert "/feeds/[redacted].ics" in line
    assert all(SECRET not in str(value) for value in atoms.values())
