"""Request ids and JSON log lines with the schema name."""

from __future__ import annotations

import json
import logging

import pytest

from ops.logs import JsonFormatter, RequestIdFilter
from ops.request_id import request_id


def record(message: str = "Stored %s", *args: object, **extra: object) -> logging.LogRecord:
    item = logging.makeLogRecord({"name": "inbound.services", "levelno": logging.INFO, "levelname": "INFO"})
    item.msg, item.args = message, args or ("email 7",)
    for key, value in extra.items():
        setattr(item, key, value)
    return item


def test_it_writes_one_json_object_with_schema_and_request_id():
    token = request_id.set("req-1234abcd")
    try:
        item = record(schema_name="acme", queue_depth=3)
        RequestIdFilter().filter(item)
        line = JsonFormatter().format(item)
    finally:
        request_id.reset(token)

    entry = json.loads(line)
    assert entry["message"] == "Stored email 7"
    assert entry["schema"] == "acme"
    assert entry["request_id"] == "req-1234abcd"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "inbound.services"
    assert entry["queue_depth"] == 3


def test_it_marks_lines_outside_a_request_and_keeps_the_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        item = record(exc_info=sys.exc_info())
    RequestIdFilter().filter(item)

    entry = json.loads(JsonFormatter().format(item))

    assert entry["request_id"] == "-"
    assert "ValueError: boom" in entry["exception"]


def test_it_gives_every_response_a_request_id(public_client):
    first = public_client.get("/healthz")["X-Request-ID"]
    second = public_client.get("/healthz")["X-Request-ID"]

    assert len(first) == 32
    assert first != second


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [("lb-2f0c9e8a-77", True), ("short", False), ("has spaces and <tags>", False), ("x" * 65, False)],
)
def test_it_keeps_a_proxys_request_id_only_when_it_looks_like_one(public_client, incoming, kept):
    response = public_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert (response["X-Request-ID"] == incoming) is kept


def test_it_logs_within_a_request_with_its_id(public_client, caplog):
    seen: list[str] = []

    class Capture(logging.Handler):
        def emit(self, item: logging.LogRecord) -> None:
            seen.append(request_id.get())

    handler = Capture()
    logging.getLogger("ops.views").addHandler(handler)
    try:
        from unittest import mock

        with mock.patch("ops.views.get_broker", autospec=True) as get_broker:
            get_broker.return_value.ping.side_effect = ConnectionError("down")
            response = public_client.get("/healthz", HTTP_X_REQUEST_ID="trace-0001-abcd")
    finally:
        logging.getLogger("ops.views").removeHandler(handler)

    assert response.status_code == 503
    assert seen == ["trace-0001-abcd"]
