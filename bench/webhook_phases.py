"""Where our webhook's time goes: one process, Django's test client, the same payloads and
database as bench/webhook.py; each step of the receiver timed around the real functions.

Prints one JSON object: the median milliseconds of each step and of the whole request.
Run by bench/webhook.py (diagnostic only, no target): `python bench/webhook_phases.py RUN`.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

STEPS = {
    "parse our fields from the MIME": ("inbound.services", "message_parse"),
    "loop-limit check and the email id (one round trip)": ("inbound.services", "loop_limit_reached_and_email_id"),
    "build the signed task (django-q2 async_task, row unsaved)": ("inbound.services", "email_task_rows"),
    "store: raw file, then the Email, log, Delivery and task rows in one statement": (
        "inbound.services",
        "email_store",
    ),
    "the whole receiver (these and the routing)": ("inbound.receivers", "delivery_receive"),
}


def main(run: str, count: int = 300, warm: int = 50) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import importlib

    from django.test import Client
    from webhook import AUTH, PATH, payload

    timings: dict[str, list[float]] = {label: [] for label in STEPS}

    def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timings[label].append(time.perf_counter() - started)

        return wrapper

    for label, (module_name, name) in STEPS.items():
        module = importlib.import_module(module_name)
        setattr(module, name, timed(label, getattr(module, name)))
    client = Client(HTTP_HOST="localhost")
    bodies = [payload(n, run) for n in range(count)]
    requests: list[float] = []
    for index, body in enumerate(bodies):
        if index == warm:
            requests.clear()
            for values in timings.values():
                values.clear()
        started = time.perf_counter()
        response = client.generic("POST", PATH, body, content_type="application/json", HTTP_AUTHORIZATION=AUTH)
        requests.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"webhook answered {response.status_code}: {response.content[:200]!r}")
    result = {label: 1000 * statistics.median(values) for label, values in timings.items()}
    result["the whole request (test client)"] = 1000 * statistics.median(requests)
    print(json.dumps(result))


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    # The project first, so an app wins over a bench module of its name.
    sys.path[:0] = [os.path.dirname(here), here]
    main(sys.argv[1])
