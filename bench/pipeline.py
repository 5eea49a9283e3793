"""Pipeline throughput: queued emails through the Anthropic provider against a local mock of the
Messages API (ANTHROPIC_BASE_URL on loopback), with the batch worker (`manage.py process_emails`,
PROJECTR_AI_CONCURRENCY threads in one process).

1. The mock answers at once: emails per second of one worker process, against the floor of
   parsing the same stored MIME and writing the rows processing writes (log, usage, the email's
   state) in a plain loop in one process.
2. Every call takes 1 s (a real model's latency): drain time against the ideal
   calls × 1 s / concurrency (auto-replies and newsletters need no call), and the most calls
   the mock saw in flight.
Also the peak RSS of the worker process (the memory target).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import ROOT
from perfdb import ORG_SLUG, prepare, production_env

DATABASE = "bench_pipeline"
EMAILS = int(os.environ.get("BENCH_PIPELINE_EMAILS", "2000"))
SLOW_EMAILS = int(os.environ.get("BENCH_PIPELINE_SLOW_EMAILS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_AI_CONCURRENCY", "16"))
# A worker is a long-lived process: its start-up (importing the SDK, building its HTTP client,
# the date parser's first locale) is paid once, not per email. The instant-mock case processes
# this many emails untimed first; the 1 s case times the whole drain, start-up included.
WARM_UP = int(os.environ.get("BENCH_PIPELINE_WARM_UP", "20"))
ROUNDS = int(os.environ.get("BENCH_PIPELINE_ROUNDS", "4"))
LABELLED = sorted((ROOT / "tests" / "data").glob("labelled*/*.eml"))

ANSWER = {
    "project": {
        "action": "new",
        "project_id": None,
        "name": "Harbour Street kitchen",
        "client_name": "Dana Client",
        "client_email": "dana@client.example",
        "confidence": 0.9,
    },
    "summary": "The joinery starts on Monday; the template visit is booked.",
    "events": [
        {
            "kind": "meeting",
            "title": "Worktop template visit",
            "date": "2026-12-09",
            "time": "10:00",
            "timezone": "Europe/London",
            "people": [],
            "amount": None,
            "currency": "",
            "evidence": "",
            "confidence": 0.9,
            "updates_event_id": None,
            "update_action": "none",
        }
    ],
}


class MockAnthropic(BaseHTTPRequestHandler):
    # Keep-alive, as the real API: with HTTP/1.0 every call would open a new connection (and a new
    # server thread), CPU that a remote API does not take from the worker's two cores.
    protocol_version = "HTTP/1.1"
    delay = 0.0
    lock = threading.Lock()
    in_flight = 0
    peak = 0
    calls = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.calls += 1
            cls.peak = max(cls.peak, cls.in_flight)
        if cls.delay:
            time.sleep(cls.delay)
        body = json.dumps(
            {
                "id": f"msg_bench_{cls.calls}",
                "type": "message",
                "role": "assistant",
                "model": "claude-haiku-5-5",
                "content": [{"type": "text", "text": json.dumps(ANSWER)}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": 700,
                    "output_tokens": 150,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 2100,
                },
            }
        ).encode()
        with cls.lock:
            cls.in_flight -= 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("request-id", "req_bench")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


# --- phases, each run in a subprocess of its own -------------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _schema() -> str:
    from organizations.models import Organization

    return Organization.objects.get(slug=ORG_SLUG).schema_name


def phase_queue(count: int, tag: str) -> None:
    """Store `count` labelled messages (each with a new Message-ID) as queued emails."""
    _django()
    from django.db import transaction
    from django_tenants.utils import schema_context

    from events.ingest import email_store, message_parse, parse_bytes

    with schema_context(_schema()):
        for n in range(count):
            raw = LABELLED[n % len(LABELLED)].read_bytes()
            message = parse_bytes(raw)
            del message["Message-ID"]
            message["Message-ID"] = f"<bench-{tag}-{n}@client.example>"
            raw = message.as_bytes()
            with transaction.atomic():
                email_store(parsed=message_parse(parse_bytes(raw)), raw=raw, provider="eml")
    print("RESULT ok")


def phase_floor(tag: str) -> None:
    """The floor: read each queued email's stored MIME, parse it, write the rows processing writes."""
    _django()
    from decimal import Decimal

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from events.ingest import message_parse, parse_bytes
    from events.models import Email, EmailLog
    from organizations.models import Organization
    from usage.models import UsageRecord

    organization = Organization.objects.get(slug=ORG_SLUG)
    with schema_context(organization.schema_name):
        ids = list(Email.objects.filter(state="queued").values_list("pk", flat=True))
        started = time.perf_counter()
        for pk in ids:
            email = Email.objects.get(pk=pk)
            with email.raw.open("rb") as handle:
                parsed = message_parse(parse_bytes(handle.read()))
            EmailLog.objects.create(email_id=pk, state="queued", message=f"floor {tag}")
            UsageRecord.objects.create(
                organization=organization,
                email_code=email.code,
                provider="anthropic",
                model="claude-haiku-5-5",
                input_tokens=len(parsed.text),
                cost_usd=Decimal("0"),
            )
            Email.objects.filter(pk=pk).update(summary=parsed.subject[:100], state_changed_at=timezone.now())
        took = time.perf_counter() - started
    print(f"RESULT {len(ids)} {took}")


def phase_work(warm_up: int) -> None:
    """One worker process drains the queue with the batch path, after `warm_up` emails untimed."""
    import resource

    _django()
    from django.core.management import call_command

    from events.batch import emails_process_batch_task
    from events.models import Email

    schema = _schema()
    warmed = sum(emails_process_batch_task(schema, warm_up).values()) if warm_up else 0
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    call_command("process_emails", "--once", "--org", ORG_SLUG, "--batch", "100000")
    took = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    from django_tenants.utils import schema_context

    with schema_context(schema):
        states = dict(Email.objects.values_list("state").annotate(n=__import__("django").db.models.Count("pk")))
    print(f"RESULT {took} {usage.ru_maxrss / 1024} {cpu} {warmed} {json.dumps(states)}")


# --- orchestration -------------------------------------------------------------------------


def run(env: dict[str, str], *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return next(line for line in result.stdout.splitlines() if line.startswith("RESULT ")).split(maxsplit=5)[1:]


def main() -> None:
    prepare(DATABASE)
    server = ThreadingHTTPServer(("127.0.0.1", 0), MockAnthropic)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = production_env(
        DATABASE,
        PROJECTR_AI_PROVIDER="anthropic",
        ANTHROPIC_API_KEY="bench-key",
        ANTHROPIC_BASE_URL=f"http://127.0.0.1:{server.server_address[1]}",
        PROJECTR_AI_CONCURRENCY=str(CONCURRENCY),
    )

    # The floor and the worker take turns, ROUNDS times, each on the round's share of the queue:
    # measured once each, minutes apart, their ratio followed the machine's drift (the floor
    # alone read 158 to 305 emails/s from run to run).
    share = EMAILS // ROUNDS
    queue_seconds = floor_count = floor_seconds = fast_seconds_f = fast_cpu = fast_rss = 0.0
    timed = 0
    fast_states = ""
    for round_ in range(ROUNDS):
        started = time.perf_counter()
        run(env, "--queue", str(share), f"fast{os.getpid()}r{round_}")
        queue_seconds += time.perf_counter() - started
        count, seconds = (float(x) for x in run(env, "--floor", f"fast{round_}")[:2])
        floor_count, floor_seconds = floor_count + count, floor_seconds + seconds
        work_seconds, work_rss, work_cpu, warmed, fast_states = run(env, "--work", str(WARM_UP))
        fast_seconds_f += float(work_seconds)
        fast_cpu += float(work_cpu)
        fast_rss = max(fast_rss, float(work_rss))
        timed += share - int(warmed)
    fast_calls, fast_peak = MockAnthropic.calls, MockAnthropic.peak

    MockAnthropic.delay, MockAnthropic.calls, MockAnthropic.peak = 1.0, 0, 0
    run(env, "--queue", str(SLOW_EMAILS), f"slow{os.getpid()}")
    slow_seconds, slow_rss, _, _, slow_states = run(env, "--work", "0")
    slow_seconds_f = float(slow_seconds)
    slow_calls = MockAnthropic.calls
    server.shutdown()
    ideal = slow_calls * 1.0 / CONCURRENCY

    floor_rate = floor_count / floor_seconds
    fast_rate = timed / fast_seconds_f
    print("## Pipeline throughput (bench/pipeline.py)\n")
    print(
        f"{EMAILS} labelled messages ({len(LABELLED)} distinct .eml, new Message-IDs) queued in {ROUNDS} rounds "
        f"(stored in {queue_seconds:.0f} s in all); in each round the floor reads the round's share, then one "
        "worker process drains it "
        f"(`manage.py process_emails --once`, PROJECTR_AI_CONCURRENCY={CONCURRENCY} threads) through the real "
        "Anthropic provider and SDK against a mock Messages API on loopback that answers one project and one "
        f"event. DEBUG off. With the instant mock each round's worker first processes {WARM_UP} emails untimed (its "
        "start-up: importing the SDK alone takes ~1.3 s, paid once per worker process, not per email); the rate "
        "and the CPU are those of the rest.\n"
    )
    print("| measure | value |\n|---|---|")
    print(f"| floor: parse the stored MIME + write log, usage and email rows, plain loop | {floor_rate:.1f} emails/s |")
    print(
        f"| pipeline, mock answering at once ({timed} emails timed; peak {fast_peak} calls in flight, {fast_calls} calls) "
        f"| {fast_rate:.1f} emails/s |"
    )
    print(
        f"| **pipeline / floor** (target ≥ 0.5×) | **{fast_rate / floor_rate:.2f}×** {'✓' if fast_rate / floor_rate >= 0.5 else '✗'} |"
    )
    print(f"| final states (instant mock) | {fast_states} |")
    print(
        f"| worker CPU per email, instant mock (user + sys, after the warm-up) | {1000 * float(fast_cpu) / timed:.1f} ms "
        f"of {1000 * fast_seconds_f / timed:.1f} ms wall |"
    )
    print(
        f"| every call takes 1 s: {SLOW_EMAILS} emails ({slow_calls} calls) drained in | {slow_seconds_f:.1f} s "
        f"(peak {MockAnthropic.peak} calls in flight) |"
    )
    print(f"| ideal = {slow_calls} calls × 1 s / {CONCURRENCY} | {ideal:.1f} s |")
    print(
        f"| **drain / ideal** (target ≤ 1.2×) | **{slow_seconds_f / ideal:.2f}×** "
        f"{'✓' if slow_seconds_f / ideal <= 1.2 else '✗'} |"
    )
    print(f"| final states (1 s mock) | {slow_states} |")
    print(
        f"| peak RSS of the worker process (target < 250 MB) | {max(float(fast_rss), float(slow_rss)):.0f} MB "
        f"{'✓' if max(float(fast_rss), float(slow_rss)) < 250 else '✗'} |"
    )
    cpu_ms = 1000 * float(fast_cpu) / timed
    if fast_rate / floor_rate < 0.5:
        print(
            f"\nThroughput with the instant mock misses by {100 * (0.5 - fast_rate / floor_rate):.0f} points: the "
            f"worker is bound by its own CPU ({cpu_ms:.1f} ms per email, one process, one GIL) where the floor spends "
            f"{1000 / floor_rate:.1f} ms of wall time. Per email it sends ~8 statements (the claim with its log "
            "row and attachments in one, the thread and recent events of the context, the usage rows in one, and in "
            "the apply transaction the thread and name match, the event with its history row in one, the state with "
            "its log row in one; BEGIN and COMMIT besides), and builds and parses one SDK request. The billing "
            "decision, the open projects and the prompt's project list are read once per batch (again every 2 s); "
            "the SQL of the claim, the matches, the thread, the recent events and the state change is built once "
            "per process, and every one of these statements is prepared on the server. Of the worker's CPU, by a "
            "py-spy profile: about a quarter the SDK's request and response, about a quarter the database "
            "statements and the apply, the context, the text's preparation (reply stripping, forwarded dates), "
            "the usage rows and the claim 5-7 % each. What would close it per process: the state change folded "
            "into the apply's statement (one round trip), compiling each INSERT once per shape; a second batch "
            "process on the second core (the claim already makes that safe) would double the machine's "
            "throughput, not this figure."
        )
    if slow_seconds_f / ideal > 1.2:
        print(
            f"\nThe drain misses its target by {100 * (slow_seconds_f / ideal - 1.2):.0f} points of the ideal: "
            f"{CONCURRENCY} calls in flight need each email's own work (~{cpu_ms:.0f} ms of CPU here) to fit in "
            f"{1000 / CONCURRENCY:.0f} ms, so the machine's other load or a slower database took the margin. What "
            "would close it: a second batch process, or fewer statements per email (see above)."
        )
    print(
        f"\nThe 1 s case takes at least {ideal:.0f} s by design ({slow_calls} calls, {CONCURRENCY} at a time); "
        f"{SLOW_EMAILS - slow_calls} of its emails are auto-replies or newsletters that need no call."
    )


if __name__ == "__main__":
    # After the project (common put it first), so an app wins over a bench module of its name.
    sys.path.append(str(Path(__file__).resolve().parent))
    if sys.argv[1:2] == ["--queue"]:
        phase_queue(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1:2] == ["--floor"]:
        phase_floor(sys.argv[2])
    elif sys.argv[1:2] == ["--work"]:
        phase_work(int(sys.argv[2]))
    else:
        main()
