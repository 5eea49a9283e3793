# ruff: noqa: S310, S311, S603, S607 - a loopback test driver: its own URLs, processes and seeded randomness
"""The soak: 5,000 Postmark deliveries through the real server and workers, with faults.

`make soak` (or `.venv/bin/python soak/run.py`). Loopback only, bounded (< 13 minutes with set-up, and
2 to 3 more for the fairness phase below):

- its own embedded PostgreSQL cluster in .data/soak-pg (so stopping it disturbs nobody's
  tests), a fresh database migrated with the real migrations, one organization made with
  `onboard_client` (plan enterprise, sender policy anyone);
- gunicorn serving the app, two `manage.py qcluster` processes (two workers each);
- the Anthropic provider pointed at soak/mock_anthropic.py (a fifth of calls: 429, 500, 529
  or a hang beyond PROJECTR_AI_TIMEOUT);
- a client with 16 threads posting 5,000 deliveries, a quarter of them repeats, retrying
  refused ones (5xx, connection errors) with backoff as Postmark does;
- every 20 s one qcluster is killed with SIGKILL (its whole process group) and restarted;
  the database is stopped (pg_ctl stop -m fast) for 10 s while mail is arriving.

Before the faults, fairness between organizations, with every AI call
answering after SOAK_FAIR_AI_SECONDS (1 s, as a real call) and no faults: a quiet organization
sends SOAK_FAIR_QUIET emails one at a time, alone, then again while another organization's
SOAK_FAIR_FLOOD emails (posted by 16 threads at once) wait for the same workers; its latency
(stored → processed) during the flood must stay within 1.5× of its latency alone.

Then it waits (bounded) for the queue to drain, checks, prints, and writes the figures to
RELIABILITY.md "## Soak". Exit status 1 when a check fails. Sizes via SOAK_* variables.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from soak.mock_anthropic import serve  # noqa: E402

PY = sys.executable
PGDATA = ROOT / ".data" / "soak-pg"
DATABASE = "soak"
SLUG = "soak"
SECRET = "soak:soak-webhook-secret"  # noqa: S105 - a loopback-only test credential
DELIVERIES = int(os.environ.get("SOAK_DELIVERIES", "5000"))
DUPLICATE_SHARE = 0.25
CONCURRENCY = int(os.environ.get("SOAK_CONCURRENCY", "16"))
KILL_EVERY = float(os.environ.get("SOAK_KILL_EVERY", "20"))
OUTAGE_AT = float(os.environ.get("SOAK_OUTAGE_AT", "25"))  # seconds after the first delivery
OUTAGE_SECONDS = float(os.environ.get("SOAK_OUTAGE_SECONDS", "10"))
# The run after set-up (the databases) stays within this; the drain gets what is left, at least 60 s.
# The drain's tail is bounded by design: an email whose worker was killed comes back when its turn's
# lease ends past the stale threshold (75 s here), and the kills go on until the drain ends.
BUDGET = float(os.environ.get("SOAK_BUDGET", "720"))
CLIENT_GIVE_UP = 240.0  # seconds one delivery keeps being retried
AI_TIMEOUT = 3.0
SEED = int(os.environ.get("SOAK_SEED", "7"))
REPORT = ROOT / "RELIABILITY.md"
# The fairness phase: two more organizations, one quiet and one flooding.
QUIET, FLOOD = "fairquiet", "fairflood"
FAIR_QUIET = int(os.environ.get("SOAK_FAIR_QUIET", "12"))
FAIR_FLOOD = int(os.environ.get("SOAK_FAIR_FLOOD", "400"))
FAIR_AI_SECONDS = float(os.environ.get("SOAK_FAIR_AI_SECONDS", "1.0"))
FAIR_SPACING = 1.5  # seconds between two of the quiet organization's emails
FAIR_BOUND = 1.5  # its median latency during the flood, at most this many times its latency alone
ONLY_FAIRNESS = os.environ.get("SOAK_ONLY_FAIRNESS") == "1"  # the fairness phase alone, then stop


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the database server ------------------------------------------------------------------
def pg_ctl(*args: str) -> None:
    from pgserver._commands import pg_ctl as run  # type: ignore[attr-defined]

    user = "pgserver" if os.geteuid() == 0 else None
    run(list(args), pgdata=PGDATA, user=user)


def pg_start() -> str:
    """Start (or attach to) the soak's own cluster; returns its socket directory."""
    code = (
        "import json, pgserver, sys; from pathlib import Path; p = Path(sys.argv[1]); p.mkdir(parents=True, exist_ok=True);"
        "s = pgserver.get_server(p, cleanup_mode=None); print(json.dumps(str(s.get_postmaster_info().socket_dir)))"
    )
    out = subprocess.run([PY, "-c", code, str(PGDATA)], check=True, capture_output=True, text=True).stdout
    return str(json.loads(out.strip().splitlines()[-1]))


def pg_stop() -> None:
    with contextlib.suppress(subprocess.CalledProcessError):
        pg_ctl("-w", "-m", "fast", "stop")


# --- processes ----------------------------------------------------------------------------
def soak_env(socket_dir: str, ai_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "soak-only-secret-key-" + "x" * 40,
            "DATABASE_URL": f"postgres://postgres@/{DATABASE}?host={socket_dir}",
            "DATABASE_NAME": DATABASE,
            "ANYMAIL_WEBHOOK_SECRET": SECRET,
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_MANIFEST": "false",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
            "PROJECTR_AI_PROVIDER": "anthropic",
            "ANTHROPIC_API_KEY": "test",
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{ai_port}",
            "PROJECTR_AI_TIMEOUT": str(AI_TIMEOUT),
            # Seconds instead of minutes, so everything drains within the bound.
            "PROJECTR_RETRY_DELAYS": "2,4,8",
            "PROJECTR_STALE_PROCESSING_SECONDS": "75",
            "Q_TIMEOUT": "60",
            "Q_RETRY": "75",
            "Q_WORKERS": os.environ.get("SOAK_Q_WORKERS", "8"),
            # A few hundred senders each write dozens of times within minutes: not a loop here.
            "INBOUND_LOOP_LIMIT": "1000000",
            # 5,000 deliveries to one organization in under a minute are the test, not a flood
            # to refuse (the per-organization limit's default is 6,000 a minute).
            "INBOUND_RATE_LIMIT": "100000",
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    # Building the template runs every migration: minutes on a busy machine with two cores.
    result = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Worker:
    name: str
    env: dict[str, str]
    logfile: Any
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    crashes: int = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [PY, "manage.py", "qcluster"],
            cwd=ROOT,
            env=self.env,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL takes its children too
        )

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.kills += 1

    def restart_if_dead(self) -> None:
        if self.process and self.process.poll() is not None:
            self.crashes += 1
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.start()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


# --- the mail -----------------------------------------------------------------------------
FIRST = ["Anna", "Ben", "Carla", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kemal", "Lena"]
LAST = ["Miller", "Okafor", "Rossi", "Schmidt", "Tanaka", "Dubois", "Novak", "Silva", "Byrne", "Larsen"]
PROJECTS = [
    "Kitchen renovation",
    "Loft conversion",
    "Garden studio",
    "Roof repair",
    "Bathroom refit",
    "Office fit-out",
    "Shop front",
    "Wedding venue",
    "Annual gala",
    "Website relaunch",
    "Brand refresh",
    "Product launch",
    "Warehouse racking",
    "Solar panels",
    "Basement tanking",
    "Extension plans",
    "Conference booth",
    "Summer festival",
    "Patio and decking",
    "Window replacement",
]
LINES = [
    "Thanks for sending the revised drawings over yesterday.",
    "The builder has confirmed the materials are on order.",
    "Could you check the quote before we sign off on it?",
    "We still need a decision on the colour of the tiles.",
    "Please let me know if anything changes on your side.",
    "The invoice for the deposit is attached to the last email.",
    "Our electrician can only come in the mornings that week.",
    "I have copied in Sam, who will handle the permits.",
]


def message(index: int, rng: random.Random, slug: str = SLUG) -> tuple[str, bytes]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{last.lower()}{rng.randint(1, 25)}"
    sender = f"{first.lower()}.{last.lower()}@{company}.example"
    project = rng.choice(PROJECTS)
    sent = datetime(2026, 11, 2, 8, 0, tzinfo=UTC) + timedelta(minutes=7 * index)
    visit = (sent + timedelta(days=rng.randint(2, 40))).date().isoformat()
    message_id = f"<{slug}-{index:05d}-{rng.getrandbits(48):012x}@{company}.example>"
    msg = EmailMessage()
    msg["From"] = f"{first} {last} <{sender}>"
    msg["To"] = f"{slug}@in.localhost"
    msg["Subject"] = f"{'Re: ' if rng.random() < 0.4 else ''}{project} - {last} project"
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = message_id
    body = ["Hi team,", "", *rng.sample(LINES, 3), f"Site visit confirmed for {visit} at 10:00.", "", f"Best,\n{first}"]
    msg.set_content("\n".join(body))
    if rng.random() < 0.1:
        msg.add_attachment(b"Item,Qty\nTiles,40\n", maintype="text", subtype="csv", filename="materials.csv")
    return message_id, bytes(msg)


def payload(index: int, raw: bytes, slug: str = SLUG) -> bytes:
    return json.dumps(
        {
            "MessageID": f"pm-{slug}-{index:05d}",
            "OriginalRecipient": f"{slug}@in.localhost",
            "Headers": [],
            "RawEmail": raw.decode("utf-8"),
        }
    ).encode()


# --- the client ---------------------------------------------------------------------------
@dataclass
class Attempt:
    at: float
    status: int  # 0 = connection error
    seconds: float


@dataclass
class Delivery:
    index: int
    message_id: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def final(self) -> int:
        return self.attempts[-1].status if self.attempts else 0


def deliver(url: str, delivery: Delivery, body: bytes, rng: random.Random) -> None:
    auth = base64.b64encode(SECRET.encode()).decode()
    started = time.monotonic()
    backoff = 0.5
    while True:
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}", "Host": "localhost"},
        )
        sent = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            status = 0
        delivery.attempts.append(Attempt(at=sent, status=status, seconds=time.monotonic() - sent))
        if status and status < 500:
            return
        if time.monotonic() - started > CLIENT_GIVE_UP:
            return
        # Postmark retries refused deliveries with growing gaps; ours are shorter to fit the bound.
        time.sleep(backoff + rng.random() * backoff)
        backoff = min(backoff * 2, 8.0)


# --- the run ------------------------------------------------------------------------------
def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers={"Host": "localhost"})
            with urllib.request.urlopen(request, timeout=5):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer {url} within {timeout} s")


def checks_json(env: dict[str, str], what: str, *slugs: str) -> dict[str, Any]:
    try:
        out = subprocess.run(
            [PY, "soak/checks.py", what, *(slugs or [SLUG])],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired as error:  # a busy machine; the caller asks again
        raise RuntimeError(f"soak/checks.py {what} took over 300 s") from error
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _sql(host: str, *statements: str) -> None:
    code = (
        "import psycopg, sys; c = psycopg.connect(dbname='postgres', user='postgres', host=sys.argv[1], autocommit=True)\n"
        "for statement in sys.argv[2:]: c.execute(statement)"
    )
    subprocess.run([PY, "-c", code, host, *statements], check=True)


# --- fairness between organizations ------------------------------------------------------
@dataclass
class Fairness:
    alone: list[float]  # the quiet organization's latencies (stored → processed), alone
    during: list[float]  # … while the flood waited for the same workers
    backlog: list[int]  # flood emails stored and not yet processed when each of those was stored
    unprocessed: int  # emails of either organization never processed (must be 0)
    flood_posted: float  # seconds the 16 threads took to post the flood
    flood_drained: float  # seconds from the flood's first email stored to its last processed
    ai: dict[str, int]


def quiet_series(url: str, first: int, rng: random.Random) -> None:
    """The quiet organization's emails, one at a time, FAIR_SPACING apart."""
    for index in range(first, first + FAIR_QUIET):
        message_id, raw = message(index, rng, QUIET)
        deliver(url, Delivery(index, message_id), payload(index, raw, QUIET), rng)
        time.sleep(FAIR_SPACING)


def drained(env: dict[str, str], *slugs: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(RuntimeError):
            if int(checks_json(env, "pending", *slugs)["pending"]) == 0:
                return True
        time.sleep(1)
    return False


def fairness_phase(url: str, env: dict[str, str], ai_stats: Any, rng: random.Random) -> Fairness:
    ai_stats.faults, ai_stats.answer_seconds = False, FAIR_AI_SECONDS
    try:
        quiet_series(url, 0, rng)
        drained(env, QUIET, within=60)
        flood = [message(index, rng, FLOOD) for index in range(FAIR_FLOOD)]
        started = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            for index, (message_id, raw) in enumerate(flood):
                pool.submit(deliver, url, Delivery(index, message_id), payload(index, raw, FLOOD), random.Random(index))
            time.sleep(2.0)  # a backlog first
            quiet_series(url, 1000, rng)
        posted = time.monotonic() - started
        drained(env, QUIET, FLOOD, within=240)
    finally:
        ai_stats.faults, ai_stats.answer_seconds = True, 0.0
        with ai_stats.lock:
            ai = dict(ai_stats.counts)
            ai_stats.counts = dict.fromkeys(ai_stats.counts, 0)  # the fault soak counts its own
    quiet = sorted(checks_json(env, "latencies", QUIET)["latencies"], key=lambda row: row[0])
    flooded = checks_json(env, "latencies", FLOOD)["latencies"]
    unprocessed = sum(1 for _, processed in quiet + flooded if processed is None)
    done = [(stored, processed) for stored, processed in quiet if processed is not None]
    alone, during = done[:FAIR_QUIET], done[FAIR_QUIET:]
    backlog = [
        sum(1 for f_stored, f_processed in flooded if f_stored < stored and (f_processed or 1e12) > stored)
        for stored, _ in during
    ]
    flood_done = [processed for _, processed in flooded if processed is not None]
    return Fairness(
        alone=[processed - stored for stored, processed in alone],
        during=[processed - stored for stored, processed in during],
        backlog=backlog,
        unprocessed=unprocessed,
        flood_posted=posted,
        flood_drained=(max(flood_done) - min(stored for stored, _ in flooded)) if flood_done else 0.0,
        ai=ai,
    )


def fairness_report(fair: Fairness) -> tuple[list[str], tuple[str, bool, str]]:
    def median(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[len(ordered) // 2] if ordered else float("nan")

    alone, during = median(fair.alone), median(fair.during)
    ratio = during / alone if alone else float("inf")
    rate = FAIR_FLOOD / fair.flood_drained if fair.flood_drained else float("nan")
    waiting = f"{min(fair.backlog)}–{max(fair.backlog)}" if fair.backlog else "none"
    lines = [
        f"- fairness, before the faults (every AI call answering after {FAIR_AI_SECONDS:.1f} s, no faults): "
        f"organization {QUIET} sent {FAIR_QUIET} emails {FAIR_SPACING} s apart alone, then {FAIR_QUIET} more "
        f"while organization {FLOOD}'s {FAIR_FLOOD} emails (posted by 16 threads in {fair.flood_posted:.0f} s) "
        f"waited for the same 16 workers; the flood drained in {fair.flood_drained:.0f} s ({rate:.1f} emails/s)",
        f"- {QUIET}'s latency (stored → processed): alone p50 {alone:.2f} s, max {max(fair.alone, default=0):.2f} s; "
        f"during the flood p50 {during:.2f} s, max {max(fair.during, default=0):.2f} s ({ratio:.2f}× alone); "
        f"{waiting} of {FLOOD}'s emails were waiting when each arrived, which one first-in-first-out queue would "
        f"have put ahead of it (~{(max(fair.backlog, default=0)) / rate if rate == rate else 0:.0f} s of work at "
        f"the flood's rate)",
        f"- fairness phase's mock calls: {fair.ai.get('ok', 0)} answers",
    ]
    check = (
        f"{QUIET}'s median latency during {FLOOD}'s flood within {FAIR_BOUND}× of its median alone; every email "
        "of both processed",
        ratio <= FAIR_BOUND and fair.unprocessed == 0 and len(fair.during) == FAIR_QUIET,
        f"{during:.2f} s vs {alone:.2f} s: {ratio:.2f}×; {fair.unprocessed} unprocessed",
    )
    return lines, check


def stop_all(server: subprocess.Popen[bytes], workers: list[Worker], mock: Any) -> None:
    for worker in workers:
        worker.stop()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
    mock.shutdown()
    pg_stop()


def write_fairness(lines: list[str], check: tuple[str, bool, str], *, into_report: bool) -> None:
    """The fairness phase's own section of RELIABILITY.md, so that a run of that phase alone
    (SOAK_ONLY_FAIRNESS=1) leaves the fault soak's figures as its last full run wrote them."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    load = os.getloadavg()[0]
    section = "\n".join(
        [
            "<!-- soak-fairness:start -->",
            "### Two organizations, one flooding (make soak)",
            "",
            f"Run {when} on commit {commit.strip()} plus the working tree; {os.cpu_count()} cores, load average "
            f"{load:.1f} when it ended (other engineers' test suites on the same cores). Real gunicorn, two "
            "`manage.py qcluster` processes of 8 workers each, the database broker, AI through the real SDK against "
            "soak/mock_anthropic.py."
            + (" The fault soak was not run (SOAK_ONLY_FAIRNESS=1)." if ONLY_FAIRNESS else ""),
            "",
            *lines,
            "",
            f"| check | result | figures |\n|---|---|---|\n| {check[0]} | {'pass' if check[1] else '**FAIL**'} | {check[2]} |",
            "<!-- soak-fairness:end -->",
        ]
    )
    if not into_report:
        return
    text = REPORT.read_text()
    if "<!-- soak-fairness:start -->" in text:
        text = re.sub(r"<!-- soak-fairness:start -->.*?<!-- soak-fairness:end -->", lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(text)


def migrations_fingerprint() -> str:
    """Changes whenever a migration does (ours, or a migrating dependency's version): rebuild then."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    for package in ("django", "django-tenants", "django-allauth", "dj-stripe", "django-q2"):
        digest.update(f"{package}=={version(package)}".encode())
    digest.update(f"organizations: {SLUG} {QUIET} {FLOOD}".encode())  # what setup() onboards
    return digest.hexdigest()[:16]


def setup(env: dict[str, str]) -> None:
    """A fresh `soak` database, cloned from a template built with the real migrations.

    Building the template (migrate_schemas, setup_platform, onboard_client, setup_schedules)
    takes one to six minutes on 2 cores; it is kept in .data/soak-pg and rebuilt only when a
    migration changes, so the run itself stays within its bound.
    """
    host = env["DATABASE_URL"].split("host=", 1)[1]
    template = f"{DATABASE}_template"
    stamp = PGDATA / "soak-template.fingerprint"
    fingerprint = migrations_fingerprint()
    started = time.monotonic()
    if not stamp.exists() or stamp.read_text() != fingerprint:
        _sql(host, f"DROP DATABASE IF EXISTS {template} WITH (FORCE)", f"CREATE DATABASE {template}")
        build = dict(env, DATABASE_URL=env["DATABASE_URL"].replace(f"/{DATABASE}?", f"/{template}?"))
        build["DATABASE_NAME"] = template
        manage(build, "migrate_schemas", "--shared", "--noinput")
        manage(build, "createcachetable")
        manage(build, "setup_platform")
        manage(
            build,
            "onboard_client",
            "--name",
            "Soak Studio",
            "--slug",
            SLUG,
            "--owner-email",
            "owner@soak.example",
            "--plan",
            "enterprise",
            "--sender-policy",
            "anyone",
            "--no-invite",
        )
        for slug in (QUIET, FLOOD):
            manage(
                build,
                "onboard_client",
                "--name",
                slug.title(),
                "--slug",
                slug,
                "--owner-email",
                f"owner@{slug}.example",
                "--plan",
                "enterprise",
                "--sender-policy",
                "anyone",
                "--no-invite",
            )
        manage(build, "setup_schedules")
        stamp.write_text(fingerprint)
        log(f"template database built with the real migrations in {time.monotonic() - started:.0f} s")
    _sql(host, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE} TEMPLATE {template}")
    # The stale-work sweep every minute (the scheduler looks about every 30 s), not every 5.
    manage(
        env,
        "shell",
        "-c",
        "from django_q.models import Schedule; from django.utils import timezone;"
        "Schedule.objects.filter(func='events.tasks.stale_requeue_task').update(minutes=1, next_run=timezone.now())",
    )
    log(f"database '{DATABASE}' ready in {time.monotonic() - started:.0f} s")


def main() -> int:
    rng = random.Random(SEED)
    run_started = time.monotonic()
    mock, ai_stats = serve(hang_seconds=AI_TIMEOUT + 2)
    socket_dir = pg_start()
    env = soak_env(socket_dir, mock.server_address[1])
    setup(env)
    # Building the template database (the first run in a checkout: two minutes) is not the
    # soak: it came out of the drain's time and cut it to four minutes.
    run_started = time.monotonic()

    logs = ROOT / ".data" / "soak-logs"
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "4",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=(logs / "gunicorn.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    workers = [Worker(f"qcluster-{i}", env, (logs / f"qcluster-{i}.log").open("ab")) for i in (1, 2)]
    for worker in workers:
        worker.start()
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/healthz", timeout=300)  # workers import Django: minutes on a busy machine
    log(f"gunicorn on {base}, 2 qclusters, mock Anthropic on port {mock.server_address[1]}")
    fairness_started = time.monotonic()
    try:
        fair = fairness_phase(f"{base}/anymail/postmark/inbound/", env, ai_stats, random.Random(SEED + 1))
    except BaseException:
        stop_all(server, workers, mock)
        raise
    log(f"fairness: {FLOOD}'s flood drained; quiet latencies alone {fair.alone}, during {fair.during}")
    run_started += time.monotonic() - fairness_started  # the fault soak keeps its own budget
    fair_lines, fair_check = fairness_report(fair)
    write_fairness(fair_lines, fair_check, into_report=os.environ.get("SOAK_WRITE_REPORT", "1") == "1")
    if ONLY_FAIRNESS:
        stop_all(server, workers, mock)
        print("\n".join(fair_lines))
        print(f"{'PASS' if fair_check[1] else 'FAIL'}  {fair_check[0]}: {fair_check[2]}")
        return 0 if fair_check[1] else 1

    distinct = round(DELIVERIES * (1 - DUPLICATE_SHARE))
    messages = [message(i, rng) for i in range(distinct)]
    plan = list(range(distinct)) + [rng.randrange(distinct) for _ in range(DELIVERIES - distinct)]
    rng.shuffle(plan)
    bodies = {i: payload(i, messages[i][1]) for i in set(plan)}
    deliveries = [Delivery(i, messages[i][0]) for i in plan]

    stop = threading.Event()
    outage: dict[str, float] = {}
    t0 = time.monotonic()

    def chaos() -> None:
        turn = 0
        next_kill = t0 + KILL_EVERY
        while not stop.is_set():
            now = time.monotonic()
            if "stop" not in outage and now - t0 >= OUTAGE_AT:
                outage["stop"] = time.monotonic()
                log("stopping the database (pg_ctl stop -m fast)")
                pg_stop()
                outage["stopped"] = time.monotonic()
                time.sleep(OUTAGE_SECONDS)
                pg_start()
                outage["started"] = time.monotonic()
                log(f"database back after {outage['started'] - outage['stop']:.1f} s")
            if now >= next_kill:
                victim = workers[turn % 2]
                victim.kill()
                victim.start()
                log(f"SIGKILL {victim.name} (process group) and restarted it")
                turn += 1
                next_kill += KILL_EVERY
            for worker in workers:
                worker.restart_if_dead()
            stop.wait(0.5)

    chaos_thread = threading.Thread(target=chaos, daemon=True)
    chaos_thread.start()
    url = f"{base}/anymail/postmark/inbound/"
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for delivery in deliveries:
            pool.submit(deliver, url, delivery, bodies[delivery.index], random.Random(delivery.index))
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
        log(f"waiting for the queue: {remaining} emails queued or processing ({why})")
        time.sleep(5)
    drain_seconds = time.monotonic() - drain_started
    stop.set()
    chaos_thread.join(timeout=30)
    figures = checks_json(env, "collect")
    for worker in workers:
        worker.stop()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
    mock.shutdown()
    pg_stop()

    return report(
        deliveries=deliveries,
        figures=figures,
        outage=outage,
        t0=t0,
        sent_seconds=sent_seconds,
        drain_seconds=drain_seconds,
        remaining=remaining,
        workers=workers,
        ai=dict(ai_stats.counts),
        total_seconds=time.monotonic() - run_started,
        fair=fair,
    )


def report(
    *,
    deliveries: list[Delivery],
    figures: dict[str, Any],
    outage: dict[str, float],
    t0: float,
    sent_seconds: float,
    drain_seconds: float,
    remaining: int,
    workers: list[Worker],
    ai: dict[str, int],
    total_seconds: float,
    fair: Fairness,
) -> int:
    # The outage window: from the stop command until the server is back, plus 2 s for the
    # requests already waiting on a connection.
    window = (outage.get("stop", 0.0), outage.get("started", 0.0) + 2.0)
    attempts = [a for d in deliveries for a in d.attempts]

    def inside(a: Attempt) -> bool:
        # Answered during the outage: the request was in flight at some moment of it (one sent
        # a moment before the stop command can still meet the stopped database).
        return a.at <= window[1] and a.at + a.seconds >= window[0]

    def refused_answer(a: Attempt) -> bool:
        return a.status == 0 or a.status >= 500

    in_window = [a for a in attempts if inside(a)]
    refused_outside = [a for a in attempts if refused_answer(a) and not inside(a)]
    refused_in_outage = [d for d in deliveries if any(refused_answer(a) and inside(a) for a in d.attempts)]
    stored = set(figures["message_ids"])
    sent_ids = {d.message_id for d in deliveries}
    final = Counter(d.final for d in deliveries)
    latencies = sorted(a.seconds for a in attempts if a.status == 200)
    p50 = latencies[len(latencies) // 2] if latencies else 0.0
    p95 = latencies[int(len(latencies) * 0.95)] if latencies else 0.0
    refused_retried_stored = sum(1 for d in refused_in_outage if d.final == 200 and d.message_id in stored)

    checks = [
        *stored_checks(figures, sent_ids, remaining),
        (
            "no 5xx (or refused connection) outside the database outage",
            not refused_outside,
            f"{len(refused_outside)} outside; {sum(1 for a in in_window if refused_answer(a))} inside",
        ),
        (
            "every delivery refused during the outage was retried and stored",
            bool(outage) and refused_retried_stored == len(refused_in_outage),
            f"{len(refused_in_outage)} refused during the outage, {refused_retried_stored} retried to a 200 and stored",
        ),
        (
            "every delivery finally answered 200",
            set(final) == {200},
            f"final answers {dict(sorted(final.items()))}",
        ),
    ]
    _, fair_check = fairness_report(fair)
    checks.append(fair_check)
    failed = [name for name, ok, _ in checks if not ok]
    lines = [
        f"- deliveries: {len(deliveries)} ({len(sent_ids)} distinct messages, "
        f"{len(deliveries) - len(sent_ids)} repeats), concurrency {CONCURRENCY}, "
        f"all answered in {sent_seconds:.0f} s; {len(attempts)} HTTP attempts in all",
        f"- webhook latency of the 200s: p50 {1000 * p50:.0f} ms, p95 {1000 * p95:.0f} ms",
        f"- database stopped at +{window[0] - t0:.0f} s for {outage.get('started', 0) - outage.get('stop', 0):.1f} s "
        f"(stop command to server back)",
        f"- workers: {sum(w.kills for w in workers)} SIGKILLs and restarts; "
        f"{sum(w.crashes for w in workers)} exits on their own (restarted)",
        f"- mock Anthropic: {ai.get('ok', 0)} answers, {ai.get('429', 0)} × 429, {ai.get('500', 0)} × 500, "
        f"{ai.get('529', 0)} × 529, {ai.get('hang', 0)} hangs > {AI_TIMEOUT:.0f} s timeout; "
        f"{figures['ai_calls']} usage rows, ${float(figures['ai_cost_usd']):.2f}",
        f"- deliveries log: {dict(sorted(figures['deliveries'].items()))}",
        f"- attempts per email: {dict(sorted(figures['attempts'].items()))}; failed reasons: "
        f"{figures['failed_reasons'] or 'none'}",
        f"- queue drained {drain_seconds:.0f} s after the last delivery; whole run {total_seconds:.0f} s",
        "- the fairness phase before the faults: see the next section",
    ]
    results_report(
        lines,
        checks,
        marker="soak",
        heading="Soak",
        intro="`make soak` (soak/run.py), run {when} on commit {commit} plus the working tree; "
        f"{os.cpu_count()} cores. Real gunicorn, two `manage.py qcluster` processes, real migrations "
        "on a dedicated embedded PostgreSQL; AI through the real SDK against soak/mock_anthropic.py.",
        section_file=ROOT / ".data" / "soak-logs" / "soak-section.md",
    )
    return 1 if failed else 0


def stored_checks(figures: dict[str, Any], sent_ids: set[str], remaining: int) -> list[tuple[str, bool, str]]:
    """The checks on what the database holds, the same for every soak: each email sent stored
    once, none left queued or processing (`remaining` at the drain's end), none processed twice."""
    stored = set(figures["message_ids"])
    not_stored, extra = sent_ids - stored, stored - sent_ids
    states = figures["states"]
    stuck = states.get("queued", 0) + states.get("processing", 0)
    return [
        (
            "distinct emails stored = distinct emails sent",
            not not_stored and not extra and figures["distinct_message_ids"] == figures["emails"],
            f"{figures['emails']} stored, {len(sent_ids)} sent, {len(not_stored)} missing, {len(extra)} unexpected",
        ),
        (
            "every stored email processed or failed with a reason (none stuck)",
            stuck == 0 and figures["failed_without_reason"] == 0 and remaining == 0,
            f"states {dict(sorted(states.items()))}; failed without a reason {figures['failed_without_reason']}",
        ),
        (
            "no email's events created twice",
            figures["emails_with_events_created_twice"] == 0 and figures["duplicate_events"] == 0,
            f"{figures['emails_with_events_created_twice']} emails with a second 'created', "
            f"{figures['duplicate_events']} duplicate events; {figures['events']} events from "
            f"{figures['emails_with_events']} emails",
        ),
    ]


def results_report(
    lines: list[str],
    checks: list[tuple[str, bool, str]],
    *,
    marker: str,
    heading: str,
    intro: str,
    section_file: Path,
    after: str | None = None,
) -> None:
    """Print the figures and the checks, and write them as RELIABILITY.md's section between
    `<!-- {marker}:start -->` and its end: in place, else after `after`'s section, else at the
    end. `intro` may name {when} and {commit}. SOAK_WRITE_REPORT=0 leaves RELIABILITY.md alone."""
    print()
    for line in lines:
        print(line)
    print()
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    section = "\n".join(
        [
            start,
            f"## {heading}",
            "",
            intro.format(when=when, commit=commit.strip()),
            "",
            *lines,
            "",
            "| check | result | figures |",
            "|---|---|---|",
            *[f"| {name} | {'pass' if ok else '**FAIL**'} | {detail} |" for name, ok, detail in checks],
            end,
        ]
    )
    section_file.write_text(section + "\n")
    if os.environ.get("SOAK_WRITE_REPORT", "1") != "1":
        return
    text = REPORT.read_text() if REPORT.exists() else "# Reliability\n"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    elif after and f"<!-- {after}:end -->" in text:
        text = text.replace(f"<!-- {after}:end -->", f"<!-- {after}:end -->\n\n" + section, 1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(text)
    log(f"figures written to {REPORT.name}")


if __name__ == "__main__":
    sys.exit(main())
