"""A local stand-in for the Anthropic Messages API, for the soak (loopback only).

It answers POST /v1/messages with a valid structured-output message built from the email in
the request, except for a fifth of the calls, which get, in turn, 429, 500, 529 or no answer
for longer than the client's timeout. The real SDK talks to it through ANTHROPIC_BASE_URL.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The soak's emails carry one line like this; the answer quotes it as the event's evidence.
EVIDENCE = re.compile(r"(Site visit confirmed for (\d{4}-\d{2}-\d{2}) at 10:00\.)")
PROJECT = re.compile(r'"subject":\s*"([^"]+)"')
FAULTS = ("429", "500", "529", "hang")


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {"ok": 0, **dict.fromkeys(FAULTS, 0)}
        # The driver switches these between its phases: the fairness phase wants every call to
        # answer, after the time a real call takes; the fault soak wants faults and no wait.
        self.faults = True
        self.answer_seconds = 0.0

    def add(self, outcome: str) -> None:
        with self.lock:
            self.counts[outcome] += 1


def answer_for(request: dict[str, Any]) -> dict[str, Any]:
    """The model's answer: a new project named after the subject, one site visit quoted from the text."""
    content = (request.get("messages") or [{}])[-1].get("content", "")
    if isinstance(content, list):
        content = "".join(block.get("text", "") for block in content if isinstance(block, dict))
    text = str(content)
    evidence = EVIDENCE.search(text)
    subject = PROJECT.search(text)
    events: list[dict[str, Any]] = []
    if evidence:
        events.append(
            {
                "kind": "meeting",
                "title": "Site visit",
                "date": evidence.group(2),
                "time": "10:00",
                "timezone": "UTC",
                "people": [],
                "amount": None,
                "currency": "",
                "evidence": evidence.group(1),
                "confidence": 0.9,
                "updates_event_id": None,
                "update_action": "",
            }
        )
    name = (subject.group(1).strip() if subject else "Soak project")[:60]
    return {
        "project": {
            "action": "new",
            "project_id": None,
            "name": name,
            "client_name": name,
            "client_email": "",
            "confidence": 0.8,
        },
        "summary": "A site visit is confirmed.",
        "events": events,
    }


def make_handler(stats: Stats, hang_seconds: float, fault_every: int) -> type[BaseHTTPRequestHandler]:
    counter = itertools.count(1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_soak_{status}")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            with lock:
                number = next(counter)
            if stats.faults and number % fault_every == 0:
                fault = FAULTS[(number // fault_every) % len(FAULTS)]
                stats.add(fault)
                if fault == "hang":
                    time.sleep(hang_seconds)
                    self.close_connection = True
                    return
                kinds = {"429": "rate_limit_error", "500": "api_error", "529": "overloaded_error"}
                error = {"type": "error", "error": {"type": kinds[fault], "message": fault}}
                self._send(int(fault), error, {"retry-after": "1"})
                return
            if stats.answer_seconds:
                time.sleep(stats.answer_seconds)
            stats.add("ok")
            usage = {
                "input_tokens": 1500,
                "output_tokens": 180,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 1200,
            }
            message = {
                "id": f"msg_soak_{number}",
                "type": "message",
                "role": "assistant",
                "model": request.get("model", "claude-haiku-5-5"),
                "content": [{"type": "text", "text": json.dumps(answer_for(request))}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": usage,
            }
            self._send(200, message)

    return Handler


def serve(*, hang_seconds: float, fault_every: int = 5) -> tuple[ThreadingHTTPServer, Stats]:
    """Start the mock on a free loopback port in a daemon thread; `server.server_address[1]` is the port."""
    stats = Stats()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(stats, hang_seconds, fault_every))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stats
