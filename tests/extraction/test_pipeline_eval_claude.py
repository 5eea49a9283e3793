"""bench/pipeline_eval.py scores a labelled set with Claude the moment a key is set: here the real
SDK talks to a loopback server that answers in the Messages API's recorded shape, so the path
from the benchmark through the pipeline to the scores cannot rot unnoticed."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from extraction import api

ROOT = Path(__file__).resolve().parents[2]
ANSWER = {
    "project": {
        "action": "new",
        "project_id": None,
        "name": "Greystone – strategy review",
        "client_name": "Greystone",
        "client_email": "",
        "confidence": 0.9,
        "candidates": [],
        "noise": "",
        "reason": "a new client",
    },
    "summary": "A workshop is planned.",
    "events": [
        {
            "kind": "meeting",
            "title": "Workshop",
            "date": "2026-11-26",
            "time": "10:00",
            "timezone": "Europe/London",
            "people": [],
            "amount": None,
            "currency": "",
            "evidence": "Workshop on 26 November.",
            "confidence": 0.9,
            "updates_event_id": None,
            "update_action": "",
        }
    ],
}


class Messages(BaseHTTPRequestHandler):
    calls: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Messages.calls.append(body)
        answer = {
            "id": f"msg_{len(Messages.calls)}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": json.dumps(ANSWER)}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 900, "output_tokens": 120},
        }
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("request-id", f"req_{len(Messages.calls)}")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[list[dict[str, Any]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Messages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    settings.PROJECTR_AI_PROVIDER, settings.ANTHROPIC_API_KEY = "anthropic", "test-key"
    Messages.calls = []
    api._shared_client.cache_clear()
    yield Messages.calls
    api._shared_client.cache_clear()
    server.shutdown()


def pipeline_eval() -> Any:
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("pipeline_eval", ROOT / "bench" / "pipeline_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_labelled_set_is_scored_with_claude_through_the_real_pipeline(org: Any, claude: list[Any]) -> None:
    result = pipeline_eval().run_set("labelled_uk", reviewer=False, organization=org)

    assert result.emails == 7
    assert len(claude) == result.emails - result.noise  # noise is recognised before any call
    assert result.projects_created == 1 and result.names == ["Greystone – strategy review [Greystone]"]
    assert result.events["precision"] < 1.0  # the canned answer's workshop is not what the set labels
