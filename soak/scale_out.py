# ruff: noqa: S311, S603, S607 - a loopback test driver: its own processes and seeded randomness
"""The scale-out soak: two web nodes and two worker nodes on one PostgreSQL and one Redis, with faults.

`make soak` runs it after soak/run.py; `make soak-scale` (or `.venv/bin/python soak/scale_out.py`)
runs it alone. Loopback only, bounded (about ten minutes once its template database exists):

- the machine's PostgreSQL server, `SOAK_DATABASE_URL` (default
  postgres://postgres@127.0.0.1:5432/postgres): a database `soak_scale`, dropped and cloned at
  start from `soak_scale_template`, which is built with the real migrations whenever a migration
  changed (its fingerprint is the template database's comment);
- its own `redis-server` on a free loopback port as broker and cache (`REDIS_URL`), without
  persistence, so that a crash loses every task it held (compose.yaml's Redis keeps an
  append-only file and would lose about a second's worth: this is the harder case);
- two gunicorn nodes, each on its own port, and two `manage.py qcluster` nodes, with soak/run.py's
  settings: the Anthropic SDK against soak/mock_anthropic.py and its faults, retries seconds
  apart, the stale sweep every minute;
- SOAK_SCALE_DELIVERIES (1,500) Postmark deliveries posted by 16 threads, a quarter of them
  repeats, alternating between the two web nodes; refused ones are retried with backoff, as
  Postmark does;
- faults: one worker node (qcluster-1) SIGKILLed with its whole process group and restarted
  SOAK_SCALE_KILLS times, SOAK_SCALE_KILL_EVERY s apart; Redis SIGKILLed at +SOAK_SCALE_REDIS_AT s
  and started again SOAK_SCALE_REDIS_DOWN s later, empty.

With Redis the broker, a task fetched by a cluster is gone from Redis: the killed node's
prefetched tasks, and every task Redis held when it died, are lost. What brings their mail
back is in PostgreSQL: each queued email keeps its Turn row, and the stale sweep
(events.tasks.stale_requeue_task) sends a task for every due turn the broker has none for,
re-queues mail left `processing` and finds queued orphans.

Then it waits (bounded) for the queue to drain and checks as soak/run.py does, and writes the
figures to RELIABILITY.md "## Scale-out soak". Exit status 1 when a check fails.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from soak.mock_anthropic import serve  # noqa: E402
from soak.run import (  # noqa: E402
    AI_TIMEOUT,
    CONCURRENCY,
    DUPLICATE_SHARE,
    PY,
    SLUG,
    Attempt,
    Delivery,
    Worker,
    checks_json,
    deliver,
    free_port,
    manage,
    message,
    migrations_fingerprint,
    payload,
    results_report,
    soak_env,
    stored_checks,
    wait_for_http,
)

SERVER_URL = os.environ.get("SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = "soak_scale"
TEMPLATE = f"{DATABASE}_template"
DELIVERIES = int(os.environ.get("SOAK_SCALE_DELIVERIES", "1500"))
WEB_WORKERS = int(os.environ.get("SOAK_SCALE_WEB_WORKERS", "2"))  # gunicorn processes per web node
KILLS = int(os.environ.get("SOAK_SCALE_KILLS", "4"))
KILL_EVERY = float(os.environ.get("SOAK_SCALE_KILL_EVERY", "30"))
FIRST_KILL = 12.0  # seconds after the first delivery
REDIS_AT = float(os.environ.get("SOAK_SCALE_REDIS_AT", "25"))
REDIS_DOWN = float(os.environ.get("SOAK_SCALE_REDIS_DOWN", "10"))
# The run after set-up stays within this; the drain gets what is left, at least 60 s.
BUDGET = float(os.environ.get("SOAK_SCALE_BUDGET", "540"))
SEED = int(os.environ.get("SOAK_SEED", "7"))
REPORT = ROOT / "RELIABILITY.md"
LOGS = ROOT / ".data" / "soak-scale-logs"
QUEUE_KEY = "django_q:projectr:q"  # django-q2's Redis list for the cluster named in Q_CLUSTER


def log(text: str) -> None:
    print(f"[soak-scale {time.strftime('%H:%M:%S')}] {text}", flush=True)


def database_url(name: str) -> str:
    parts = urlsplit(SERVER_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin(*statements: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def template_fingerprint() -> str | None:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [TEMPLATE]
        ).fetchone()
    return row[0] if row else None


# --- Redis --------------------------------------------------------------------------------
@dataclass
class RedisServer:
    port: int
    logfile: Any
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            # No RDB snapshots and no append-only file: what it holds dies with it.
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=LOGS,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.1)
        raise SystemExit(f"redis-server did not answer on port {self.port}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def queued(self) -> int:
        import redis

        return int(redis.Redis(port=self.port, socket_timeout=2).llen(QUEUE_KEY))


# --- set-up -------------------------------------------------------------------------------
def setup(env: dict[str, str]) -> None:
    """A fresh `soak_scale` database, cloned from a template built with the real migrations."""
    fingerprint = f"{migrations_fingerprint()} scale {SLUG}"
    started = time.monotonic()
    if template_fingerprint() != fingerprint:
        admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)", f"CREATE DATABASE {TEMPLATE}")
        build = dict(env, DATABASE_URL=database_url(TEMPLATE), DATABASE_NAME=TEMPLATE)
        manage(build, "migrate_schemas", "--shared", "--noinput")
        manage(build, "setup_platform")
        manage(
            build,
            *("onboard_client", "--name", "Soak Studio", "--slug", SLUG, "--owner-email", "owner@soak.example"),
            *("--plan", "enterprise", "--sender-policy", "anyone", "--no-invite"),
        )
        manage(build, "setup_schedules")
        admin(f"COMMENT ON DATABASE {TEMPLATE} IS '{fingerprint}'")
        log(f"template database built with the real migrations in {time.monotonic() - started:.0f} s")
    admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE} TEMPLATE {TEMPLATE}")
    # The stale-work sweep every minute (the schedulers look about every 30 s), not every 5.
    manage(
        env,
        "shell",
        "-c",
        "from django_q.models import Schedule; from django.utils import timezone;"
        "Schedule.objects.filter(func='events.tasks.stale_requeue_task').update(minutes=1, next_run=timezone.now())",
    )
    log(f"database '{DATABASE}' on {urlsplit(SERVER_URL).netloc} ready in {time.monotonic() - started:.0f} s")


def web_node(env: dict[str, str], port: int, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "config.wsgi:application",
            *("--bind", f"127.0.0.1:{port}", "--workers", str(WEB_WORKERS), "--threads", "4"),
            *("--worker-class", "gthread", "--timeout", "60"),
        ],
        cwd=ROOT,
        env=env,
        stdout=(LOGS / f"{name}.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def sweep_figures() -> dict[str, int]:
    """What the stale sweep logged in both worker nodes: tasks sent for due turns, mail re-queued."""
    text = "".join(path.read_text(errors="replace") for path in LOGS.glob("qcluster-*.log"))
    requeued = re.findall(r"Re-queued (\d+) emails left in processing and (\d+) queued emails", text)
    return {
        "topped_up": sum(int(n) for n in re.findall(r"Sent (\d+) tasks for due turns", text)),
        "stale": sum(int(a) for a, _ in requeued),
        "orphans": sum(int(b) for _, b in requeued),
    }


def turns_left() -> int:
    with psycopg.connect(database_url(DATABASE), autocommit=True) as connection:
        row = connection.execute("SELECT count(*) FROM public.fairness_turn").fetchone()
    return int(row[0]) if row else 0


# --- the run ------------------------------------------------------------------------------
def main() -> int:
    if not shutil.which("redis-server"):
        raise SystemExit("soak/scale_out.py needs redis-server (Debian: apt-get install redis-server)")
    try:
        admin("SELECT 1")
    except psycopg.Error as error:
        raise SystemExit(f"soak/scale_out.py needs a PostgreSQL server: set SOAK_DATABASE_URL ({error})") from error
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in LOGS.glob("*.log"):
        old.unlink()
    rng = random.Random(SEED)
    mock, ai_stats = serve(hang_seconds=AI_TIMEOUT + 2)
    redis_server = RedisServer(free_port(), (LOGS / "redis.log").open("ab"))
    redis_server.start()
    env = soak_env("", mock.server_address[1])
    env.update(DATABASE_URL=database_url(DATABASE), DATABASE_NAME=DATABASE, REDIS_URL=redis_server.url)
    setup(env)
    run_started = time.monotonic()

    ports = [free_port(), free_port()]
    webs = [web_node(env, port, f"web-{i}") for i, port in enumerate(ports, 1)]
    workers = [Worker(f"qcluster-{i}", env, (LOGS / f"qcluster-{i}.log").open("ab")) for i in (1, 2)]
    for worker in workers:
        worker.start()
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    for base in bases:
        wait_for_http(f"{base}/healthz", timeout=300)
    log(
        f"web nodes {', '.join(bases)}; 2 qclusters; Redis on {redis_server.port}; mock Anthropic on {mock.server_address[1]}"
    )

    distinct = round(DELIVERIES * (1 - DUPLICATE_SHARE))
    messages = [message(i, rng) for i in range(distinct)]
    plan = list(range(distinct)) + [rng.randrange(distinct) for _ in range(DELIVERIES - distinct)]
    rng.shuffle(plan)
    bodies = {i: payload(i, messages[i][1]) for i in set(plan)}
    deliveries = [Delivery(i, messages[i][0]) for i in plan]
    node_of = [n % 2 for n in range(len(deliveries))]  # alternating, as a load balancer would

    stop = threading.Event()
    outage: dict[str, float] = {}
    kills = 0
    t0 = time.monotonic()

    def chaos() -> None:
        nonlocal kills
        next_kill, next_look = t0 + FIRST_KILL, t0
        while not stop.is_set():
            now = time.monotonic()
            if "stop" not in outage and now - t0 >= REDIS_AT:
                with contextlib.suppress(Exception):
                    outage["tasks_lost"] = redis_server.queued()
                outage["stop"] = time.monotonic()
                redis_server.kill()
                log(f"Redis killed (SIGKILL) holding {outage.get('tasks_lost', -1):.0f} tasks")
                stop.wait(REDIS_DOWN)
                redis_server.start()
                outage["started"] = time.monotonic()
                log(f"Redis back, empty, after {outage['started'] - outage['stop']:.1f} s")
            if kills < KILLS and now >= next_kill:
                workers[0].kill()
                workers[0].start()
                kills += 1
                next_kill += KILL_EVERY
                log(f"SIGKILL {workers[0].name} (process group) and restarted it")
            if now >= next_look:  # a cluster that exited on its own (say, started while Redis was away)
                for worker in workers:
                    worker.restart_if_dead()
                next_look = now + 2.0
            stop.wait(0.5)

    chaos_thread = threading.Thread(target=chaos, daemon=True)
    chaos_thread.start()
    urls = [f"{base}/anymail/postmark/inbound/" for base in bases]
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for delivery, node in zip(deliveries, node_of, strict=True):
            pool.submit(deliver, urls[node], delivery, bodies[delivery.index], random.Random(delivery.index))
    sent_seconds = time.monotonic() - t0
    log(f"{len(deliveries)} deliveries answered in {sent_seconds:.0f} s")

    drain_started = time.monotonic()
    drain_deadline = max(run_started + BUDGET - 25, drain_started + 60)
    remaining = -1
    while time.monotonic() < drain_deadline:
        why: object = None
        try:
            answer = checks_json(env, "pending")
            remaining, why = int(answer["pending"]), answer.get("why")
        except RuntimeError:
            remaining = -1
        if remaining == 0:
            break
        with contextlib.suppress(Exception):
            why = f"{why}; {redis_server.queued()} tasks in Redis"  # the 'tasks' counts above are the ORM broker's
        log(f"waiting for the queue: {remaining} emails queued or processing ({why})")
        time.sleep(5)
    drain_seconds = time.monotonic() - drain_started
    stop.set()
    chaos_thread.join(timeout=30)
    figures = checks_json(env, "collect")
    figures["turns_left"] = turns_left()
    for worker in workers:
        worker.stop()
    for web in webs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    mock.shutdown()
    redis_server.kill()

    return report(
        deliveries=deliveries,
        node_of=node_of,
        figures=figures,
        outage=outage,
        t0=t0,
        sent_seconds=sent_seconds,
        drain_seconds=drain_seconds,
        remaining=remaining,
        workers=workers,
        kills=kills,
        ai=dict(ai_stats.counts),
        sweep=sweep_figures(),
        total_seconds=time.monotonic() - run_started,
    )


def report(
    *,
    deliveries: list[Delivery],
    node_of: list[int],
    figures: dict[str, Any],
    outage: dict[str, float],
    t0: float,
    sent_seconds: float,
    drain_seconds: float,
    remaining: int,
    workers: list[Worker],
    kills: int,
    ai: dict[str, int],
    sweep: dict[str, int],
    total_seconds: float,
) -> int:
    # The outage window: from the kill until Redis answers again, plus 2 s for the requests
    # already past their enqueue's connection attempt.
    window = (outage.get("stop", 0.0), outage.get("started", 0.0) + 2.0)
    attempts = [a for d in deliveries for a in d.attempts]

    def inside(a: Attempt) -> bool:
        return a.at <= window[1] and a.at + a.seconds >= window[0]

    def refused_answer(a: Attempt) -> bool:
        return a.status == 0 or a.status >= 500

    refused_inside = [a for a in attempts if refused_answer(a) and inside(a)]
    refused_outside = [a for a in attempts if refused_answer(a) and not inside(a)]
    refused_in_outage = [d for d in deliveries if any(refused_answer(a) and inside(a) for a in d.attempts)]
    stored = set(figures["message_ids"])
    sent_ids = {d.message_id for d in deliveries}
    final = Counter(d.final for d in deliveries)
    # Deliveries that ended on an answer other than 200, by whether that answer came during the outage.
    other_inside = Counter(d.final for d in deliveries if d.final != 200 and inside(d.attempts[-1]))
    other_outside = Counter(d.final for d in deliveries if d.final != 200 and not inside(d.attempts[-1]))
    per_node = Counter(node for d, node in zip(deliveries, node_of, strict=True) if d.final == 200)
    latencies = sorted(a.seconds for a in attempts if a.status == 200)
    p50 = latencies[len(latencies) // 2] if latencies else 0.0
    p95 = latencies[int(len(latencies) * 0.95)] if latencies else 0.0
    retried_stored = sum(1 for d in refused_in_outage if d.final == 200 and d.message_id in stored)
    redis_down = outage.get("started", 0.0) - outage.get("stop", 0.0)

    checks = [
        *stored_checks(figures, sent_ids, remaining),
        (
            "no 5xx (or refused connection) outside the Redis outage",
            not refused_outside,
            f"{len(refused_outside)} outside; {len(refused_inside)} inside",
        ),
        (
            "every delivery refused during the Redis outage was retried and stored",
            retried_stored == len(refused_in_outage),
            f"{len(refused_in_outage)} refused during the outage, {retried_stored} retried to a 200 and stored",
        ),
        (
            "every delivery finally answered 200",
            set(final) == {200},
            f"final answers {dict(sorted(final.items()))}; other than 200: {dict(sorted(other_inside.items()))} "
            f"during the Redis outage, {dict(sorted(other_outside.items()))} outside it",
        ),
        (
            "deliveries spread over both web nodes",
            min(per_node[0], per_node[1]) >= 0.4 * len(deliveries),
            f"web-1 {per_node[0]}, web-2 {per_node[1]} final 200s",
        ),
        (
            "the faults happened: a worker node SIGKILLed and restarted, Redis killed and restarted once",
            kills == KILLS and bool(outage.get("started")),
            f"{kills} SIGKILLs of {workers[0].name}; Redis down {redis_down:.1f} s",
        ),
    ]
    failed = [name for name, ok, _ in checks if not ok]
    lines = [
        f"- deliveries: {len(deliveries)} ({len(sent_ids)} distinct messages, {len(deliveries) - len(sent_ids)} "
        f"repeats), concurrency {CONCURRENCY}, alternating between 2 web nodes ({WEB_WORKERS} gunicorn processes "
        f"× 4 threads each), all answered in {sent_seconds:.0f} s; {len(attempts)} HTTP attempts in all",
        f"- webhook latency of the 200s: p50 {1000 * p50:.0f} ms, p95 {1000 * p95:.0f} ms",
        f"- Redis (broker and cache, no persistence) SIGKILLed at +{window[0] - t0:.0f} s holding "
        f"{outage.get('tasks_lost', -1):.0f} tasks, started again empty {redis_down:.1f} s later",
        f"- worker nodes: {kills} SIGKILLs of {workers[0].name} (process group) and restarts; "
        f"{sum(w.crashes for w in workers)} exits on their own (restarted)",
        f"- the stale sweep: {sweep['topped_up']} tasks sent for due turns the broker had lost, "
        f"{sweep['stale']} emails re-queued from processing, {sweep['orphans']} queued orphans re-queued; "
        f"{figures['turns_left']} turns left at the end",
        f"- mock Anthropic: {ai.get('ok', 0)} answers, {ai.get('429', 0)} × 429, {ai.get('500', 0)} × 500, "
        f"{ai.get('529', 0)} × 529, {ai.get('hang', 0)} hangs > {AI_TIMEOUT:.0f} s timeout; "
        f"{figures['ai_calls']} usage rows",
        f"- deliveries log: {dict(sorted(figures['deliveries'].items()))}",
        f"- attempts per email: {dict(sorted(figures['attempts'].items()))}; failed reasons: "
        f"{figures['failed_reasons'] or 'none'}",
        f"- queue drained {drain_seconds:.0f} s after the last delivery; whole run {total_seconds:.0f} s",
    ]
    results_report(
        lines,
        checks,
        marker="soak-scale",
        heading="Scale-out soak",
        intro="`make soak` (soak/scale_out.py), run {when} on commit {commit} plus the working tree; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} when it ended. Two gunicorn nodes and two "
        "`manage.py qcluster` nodes on one PostgreSQL (the machine's server, real migrations) and one Redis "
        "(its own `redis-server`, broker and cache); AI through the real SDK against soak/mock_anthropic.py.",
        section_file=LOGS / "soak-scale-section.md",
        after="soak",
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
