"""The latency a user feels: a delivery's webhook 200 → its event on the project's timeline.

Everything as in production, on this machine: gunicorn serving config.wsgi (2 workers × 4
threads, DEBUG off), one `manage.py qcluster` on the database broker, the real Anthropic provider
and SDK against soak/mock_anthropic.py answering every call after AI_SECONDS (1 s, a real model's
latency). Postmark deliveries of the webhook benchmark's ~20 KB message (bench/webhook.py), each
a new message from its own sender, all about one existing project and each naming one site visit
on its own date, are POSTed: first 2 × Q_WORKERS at once, untimed, so that every worker process
has imported the SDK and built its client (~1.3 s of CPU, paid once per process), then at a
steady RATE per second, WARM_UP_SECONDS untimed and SECONDS timed.

A poller asks the project's timeline through the public API (GET /api/v1/events?project=…, the
timeline's own selector `events.selectors.timeline_page`) every POLL_SECONDS for the dates not
seen yet; a delivery's latency runs from its 200 to the answer that first lists its event.
Afterwards the database says where each delivery's time went: the worker's claim (its
"Processing" log row), the event row written, and the commit and poll after it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from common import ROOT, percentile
from perfdb import children, gunicorn, prepare, production_env
from webhook import cpu_seconds, payload, post, postgres_cpu

from soak.mock_anthropic import serve

DATABASE = "bench_latency"
RATE = float(os.environ.get("BENCH_LATENCY_RATE", "10"))
SECONDS = float(os.environ.get("BENCH_LATENCY_SECONDS", "60"))
WARM_UP_SECONDS = float(os.environ.get("BENCH_LATENCY_WARM_UP", "10"))
AI_SECONDS = 1.0
POLL_SECONDS = 0.1
# Little's law: RATE × (AI_SECONDS + the worker's own ~0.1 s) ≈ 11 emails in a worker at any
# moment, and a django-q2 worker process runs one task at a time. 16 leaves room for the
# bursts the broker's 0.5 s poll makes (a poll hands out every task that arrived meanwhile).
Q_WORKERS = int(os.environ.get("BENCH_LATENCY_Q_WORKERS", "16"))
TARGETS = {50: 1.3, 95: 2.0}
# A second pass with Redis as broker and cache (a database number of its own), to show what the
# database broker's poll costs; "" skips it.
REDIS_DIAGNOSTIC = os.environ.get("BENCH_LATENCY_REDIS", "redis://127.0.0.1:6379/13")
PROJECT = "Harbour Street kitchen"
# Delivery n names a site visit on FIRST_DATE + n days: its event is found on the timeline by date.
FIRST_DATE = dt.date(2027, 1, 1)

SETUP = f"""
import json
from django_tenants.utils import tenant_context
from api.models import ApiKeyScope
from api.services import api_key_create
from organizations.models import Organization
from projects.services import project_create
organization = Organization.objects.get(slug='bench')
with tenant_context(organization):
    project = project_create(organization=organization, actor=None, name={PROJECT!r})
key = api_key_create(organization=organization, actor=None, name='Latency', scope=ApiKeyScope.READ).secret
print(json.dumps({{'project': str(project.code), 'key': key, 'host': organization.host}}))
"""

# Per event of the project: its date, when its row was written, when its email was received,
# claimed by a worker (the first "Processing" log row) and marked processed; and the final states.
TIMES = f"""
import json
from django.db.models import Count, Min
from django_tenants.utils import schema_context
from events.models import Email, EmailLog, Event
from organizations.models import Organization
with schema_context(Organization.objects.get(slug='bench').schema_name):
    claims = dict(
        EmailLog.objects.filter(state='processing').values('email_id').annotate(at=Min('at')).values_list('email_id', 'at')
    )
    emails = {{pk: (r, p) for pk, r, p in Email.objects.values_list('pk', 'received_at', 'processed_at')}}
    rows = {{}}
    for date, created, email_id in Event.objects.filter(project__name={PROJECT!r}).values_list('date', 'created_at', 'email_id'):
        received, processed = emails[email_id]
        rows[date.isoformat()] = [received.timestamp(), claims[email_id].timestamp(), created.timestamp(),
                                  processed.timestamp() if processed else None]
    states = dict(Email.objects.values_list('state').annotate(n=Count('pk')))
print(json.dumps({{'rows': rows, 'states': states}}))
"""


def django_run(code: str, env: dict[str, str]) -> dict[str, object]:
    """Run `code` in a Django shell of the benchmark's settings; the JSON its last line prints."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def descendants(pid: int) -> list[int]:
    found = children(pid)
    return found + [grandchild for child in found for grandchild in descendants(child)]


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, every process of anyone."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK"), sum(fields) / os.sysconf("SC_CLK_TCK")


class Timeline:
    """The poller: the project's timeline through the API, for the dates of deliveries not seen yet."""

    def __init__(self, port: int, host: str, key: str, project: str) -> None:
        self.port, self.host, self.key, self.project = port, host, key, project
        self.waiting: set[int] = set()  # delivery numbers POSTed and not seen yet
        self.seen: dict[int, float] = {}
        self.request_seconds: list[float] = []
        self.errors = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def page(self, first: int, last: int, cursor: str = "", timeout: float = 30) -> dict[str, object]:
        query = {
            "project": self.project,
            "date_from": (FIRST_DATE + dt.timedelta(days=first)).isoformat(),
            "date_to": (FIRST_DATE + dt.timedelta(days=last)).isoformat(),
            "limit": "100",
        }
        if cursor:
            query["cursor"] = cursor
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        connection.request(
            "GET",
            f"/api/v1/events?{urlencode(query)}",
            headers={"Host": self.host, "Authorization": f"Bearer {self.key}"},
        )
        response = connection.getresponse()
        body = response.read()
        connection.close()
        if response.status != 200:
            raise OSError(f"timeline answered {response.status}")
        return dict(json.loads(body))

    def poll_once(self) -> None:
        with self.lock:
            waiting = set(self.waiting)
        if not waiting:
            return
        cursor = ""
        while True:
            started = time.perf_counter()
            try:
                page = self.page(min(waiting), max(waiting), cursor)
            except (OSError, ValueError):
                self.errors += 1
                return
            answered = time.time()
            self.request_seconds.append(time.perf_counter() - started)
            with self.lock:
                for item in page["items"]:  # type: ignore[attr-defined]
                    n = (dt.date.fromisoformat(item["date"]) - FIRST_DATE).days
                    if n in self.waiting:
                        self.waiting.discard(n)
                        self.seen[n] = answered
            cursor = str(page.get("next_cursor") or "")
            if not cursor:
                return

    def run(self) -> None:
        tick = time.monotonic()
        while not self.stop.is_set():
            self.poll_once()
            tick += POLL_SECONDS
            time.sleep(max(0.0, tick - time.monotonic()))


def qcluster(env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Its own process group, so that stopping it stops its sentinel, pusher, monitor and workers.
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@dataclass
class Pass:
    """One run of the whole pipeline on one broker, and what the database said afterwards."""

    broker: str
    answered: dict[int, float] = field(default_factory=dict)  # delivery → when its 200 arrived
    refused: list[int] = field(default_factory=list)
    timeline: Timeline | None = None
    database: dict[str, object] = field(default_factory=dict)
    sent_seconds: float = 0.0
    # The machine's busy share; gunicorn's, the cluster's and PostgreSQL's CPU seconds per delivery.
    cpu: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    load: float = 0.0  # the machine's 1-minute load average as the timed window began
    ai_calls: int = 0

    def latencies(self) -> list[float]:
        assert self.timeline is not None
        return [self.timeline.seen[n] - self.answered[n] for n in self.timed() if n in self.timeline.seen]

    def timed(self) -> list[int]:
        return [n for n in range(WARM, WARM + TIMED) if n in self.answered]

    def stages(self) -> dict[str, list[float]]:
        """Per delivery seen: 200 → claimed, claimed → event row written, event row → seen."""
        assert self.timeline is not None
        rows: dict[str, list[float | None]] = self.database["rows"]  # type: ignore[assignment]
        stages: dict[str, list[float]] = {"queue": [], "work": [], "visible": []}
        for n in self.timed():
            row = rows.get((FIRST_DATE + dt.timedelta(days=n)).isoformat())
            if row is None or n not in self.timeline.seen:
                continue
            _, claimed, created, _ = row
            assert claimed is not None and created is not None
            stages["queue"].append(claimed - self.answered[n])
            stages["work"].append(created - claimed)
            stages["visible"].append(self.timeline.seen[n] - created)
        return stages


BURST = 2 * Q_WORKERS
WARM, TIMED = BURST + int(WARM_UP_SECONDS * RATE), int(SECONDS * RATE)


def measure(broker: str, redis_url: str = "") -> Pass:
    prepare(DATABASE)
    if redis_url:
        import redis

        # Tasks a previous pass left in this benchmark's own Redis database name emails of a database now gone.
        redis.Redis.from_url(redis_url).flushdb()
    mock, ai_stats = serve(hang_seconds=0)
    ai_stats.faults, ai_stats.answer_seconds = False, AI_SECONDS
    env = production_env(
        DATABASE,
        REDIS_URL=redis_url,  # empty: the database is broker and cache
        Q_WORKERS=str(Q_WORKERS),
        PROJECTR_AI_PROVIDER="anthropic",
        ANTHROPIC_API_KEY="bench-key",
        ANTHROPIC_BASE_URL=f"http://127.0.0.1:{mock.server_address[1]}",
        # The poller asks 10 times a second, beyond what the API allows one key (120/min).
        API_RATE_LIMIT="1000000/min",
        API_ORGANIZATION_RATE_LIMIT="1000000/min",
    )
    setup = django_run(SETUP, env)
    run = f"latency{os.getpid()}{broker}"
    bodies = [
        payload(
            n,
            run,
            subject=PROJECT,
            opening=f"Site visit confirmed for {(FIRST_DATE + dt.timedelta(days=n)).isoformat()} at 10:00.\n\n",
        )
        for n in range(WARM + TIMED)
    ]
    server, port = gunicorn("config.wsgi", env, workers=2, threads=4)
    cluster = qcluster(env)
    timeline = Timeline(port, str(setup["host"]), str(setup["key"]), str(setup["project"]))
    result = Pass(broker=broker, timeline=timeline)

    def deliver(n: int) -> None:
        with timeline.lock:
            timeline.waiting.add(n)
        ok = post(port, bodies[n])
        done = time.time()
        if ok:
            result.answered[n] = done
        else:
            result.refused.append(n)
            with timeline.lock:
                timeline.waiting.discard(n)

    poller = threading.Thread(target=timeline.run, daemon=True)
    try:
        # The web workers import the app on their first requests (minutes on a busy machine).
        for _ in range(4):
            timeline.page(0, 0, timeout=600)
        poller.start()
        with ThreadPoolExecutor(max_workers=max(32, BURST)) as pool:
            # Every worker busy at once: each takes one of these, its first email.
            for n in range(BURST):
                pool.submit(deliver, n)
            deadline = time.monotonic() + 300
            while (timeline.waiting or len(result.answered) + len(result.refused) < BURST) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.2)
            started = time.monotonic()
            for n in range(BURST, WARM + TIMED):
                if n == WARM:
                    # The cluster's processes as they are after the warm-up (it forks its workers as it starts).
                    gunicorn_pids, cluster_pids = children(server.pid), descendants(cluster.pid)
                    window = (
                        time.time(),
                        machine_busy(),
                        cpu_seconds(gunicorn_pids),
                        cpu_seconds(cluster_pids),
                        postgres_cpu(),
                    )
                    result.load = float(Path("/proc/loadavg").read_text().split()[0])
                time.sleep(max(0.0, started + (n - BURST) / RATE - time.monotonic()))
                pool.submit(deliver, n)
        result.sent_seconds = time.time() - window[0]
        busy_end = machine_busy()
        result.cpu = (
            (busy_end[0] - window[1][0]) / (busy_end[1] - window[1][1]),
            (cpu_seconds(gunicorn_pids) - window[2]) / TIMED,
            (cpu_seconds(cluster_pids) - window[3]) / TIMED,
            (postgres_cpu() - window[4]) / TIMED,
        )
        deadline = time.monotonic() + 60
        while timeline.waiting and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        timeline.stop.set()
        os.killpg(cluster.pid, signal.SIGTERM)
        server.terminate()
        try:
            cluster.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # Its workers have stopped by now; django-q2's main process sometimes waits on forever.
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()
        server.wait(timeout=30)
        mock.shutdown()
    result.database = django_run(TIMES, env)
    result.ai_calls = ai_stats.counts["ok"]
    return result


def main() -> None:
    passes = [measure("database")]
    if REDIS_DIAGNOSTIC:
        passes.append(measure("redis", REDIS_DIAGNOSTIC))
    report(passes)


def report(passes: list[Pass]) -> None:
    main_pass = passes[0]
    assert main_pass.timeline is not None
    latencies, stages = main_pass.latencies(), main_pass.stages()
    machine, web_seconds, workers_seconds, postgres_seconds = main_pass.cpu
    missing = [n for n in main_pass.timed() if n not in main_pass.timeline.seen]

    print("## Latency a user feels (bench/latency.py)\n")
    print(
        f"Postmark deliveries of the webhook benchmark's ~20 KB message, each a new message from its own sender "
        f"about one existing project and naming one site visit: {BURST} at once, untimed (every worker's first "
        f"email: importing the SDK, ~1.3 s of CPU once per process), then at a steady {RATE:.0f} per second "
        f"{WARM - BURST} untimed ({WARM_UP_SECONDS:.0f} s) and {TIMED} timed ({SECONDS:.0f} s; sent in "
        f"{main_pass.sent_seconds:.1f} s). gunicorn as in production (2 workers × 4 threads, DEBUG off), one "
        f"`manage.py qcluster` of {Q_WORKERS} workers on the database broker (django-q2 polls it every 0.5 s when "
        f"idle), the real Anthropic provider and SDK against soak/mock_anthropic.py answering every call after "
        f"{AI_SECONDS:.0f} s. Latency: from the webhook's 200 to the first answer of the project's timeline "
        f"(`GET /api/v1/events?project=…`, the timeline's selector) that lists the delivery's event, asked every "
        f"{1000 * POLL_SECONDS:.0f} ms for the dates not seen yet. Why {Q_WORKERS} workers on 2 cores: a worker "
        "process runs one task at a time and each email holds it for the 1 s call and its own work, so "
        f"{RATE:.0f} deliveries a second keep ~{RATE * (AI_SECONDS + 0.1):.0f} busy (Little's law); the broker "
        "hands out what arrived during its poll at once.\n"
    )
    print("| measure | value |\n|---|---|")
    for pct in (50, 95, 99):
        value = percentile(latencies, pct)
        target = TARGETS.get(pct)
        verdict = ""
        if target is not None:
            verdict = f" (target ≤ {target} s) {'✓ PASS' if value <= target else f'✗ FAIL by {value - target:.2f} s'}"
        print(f"| **200 → on the timeline, p{pct}**{verdict} | **{value:.2f} s** |")
    print(f"| max | {max(latencies, default=float('nan')):.2f} s |")
    print(
        f"| deliveries timed / refused / never seen within 60 s | {len(main_pass.timed())} / "
        f"{len(main_pass.refused)} / {len(missing)} |"
    )
    print(
        "| where the time went, p50 (p95): 200 → a worker claims it (broker poll, queue) | "
        f"{percentile(stages['queue'], 50):.2f} s ({percentile(stages['queue'], 95):.2f} s) |"
    )
    print(
        f"| claim → event row written (context, the {AI_SECONDS:.0f} s call, apply) | "
        f"{percentile(stages['work'], 50):.2f} s ({percentile(stages['work'], 95):.2f} s) |"
    )
    print(
        "| event row → first timeline answer that lists it (commit, poll interval, the request) | "
        f"{percentile(stages['visible'], 50):.2f} s ({percentile(stages['visible'], 95):.2f} s) |"
    )
    requests = main_pass.timeline.request_seconds
    print(
        f"| timeline requests: p50 / p95 / errors | {1000 * percentile(requests, 50):.0f} ms / "
        f"{1000 * percentile(requests, 95):.0f} ms / {main_pass.timeline.errors} |"
    )
    print(
        "| CPU per timed delivery: gunicorn (the webhook and the poller's requests) / qcluster / PostgreSQL "
        "(every backend, others' benchmarks' too) | "
        f"{1000 * web_seconds:.0f} ms / {1000 * workers_seconds:.0f} ms / {1000 * postgres_seconds:.0f} ms |"
    )
    print(
        "| the machine during the timed window (every process, others' too): CPU busy / load average at its start | "
        f"{100 * machine:.0f} % / {main_pass.load:.1f} |"
    )
    print(f"| AI calls answered / final states | {main_pass.ai_calls} / {json.dumps(main_pass.database['states'])} |")
    for other in passes[1:]:
        parts = other.stages()
        print(
            f"| diagnostic, the same with {other.broker} as broker and cache (machine busy {100 * other.cpu[0]:.0f} %): "
            "p50 / p95 / p99; the three parts above at p50 | "
            + " / ".join(f"{percentile(other.latencies(), pct):.2f} s" for pct in (50, 95, 99))
            + "; "
            + " + ".join(f"{percentile(parts[name], 50):.2f}" for name in ("queue", "work", "visible"))
            + " s |"
        )
    failed = [pct for pct, target in TARGETS.items() if not percentile(latencies, pct) <= target]
    if failed:
        share = {name: percentile(values, 50) for name, values in stages.items()}
        print(
            "\nA target is missed: "
            + ", ".join(
                f"p{pct} by {percentile(latencies, pct) - TARGETS[pct]:.2f} s "
                f"({percentile(latencies, pct) / TARGETS[pct]:.2f}× its target)"
                for pct in failed
            )
            + f". At the median, the queue takes {share['queue']:.2f} s, the worker {share['work']:.2f} s (of which "
            f"{AI_SECONDS:.0f} s is the call) and becoming visible {share['visible']:.2f} s; see docs/performance.md."
        )


if __name__ == "__main__":
    main()
