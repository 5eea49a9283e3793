"""Webhook edge: Postmark inbound POSTs of a typical 20 KB message through gunicorn on loopback.

Two servers on the same database, both as in production (DEBUG off, scripts/serve.py's 2
workers × 4 threads, persistent connections): ours (config.wsgi: auth, size cap, routing,
Delivery log, raw message stored, Email row queued) and the baseline, anymail's own Postmark
inbound view with a no-op receiver (bench/webhook_baseline_settings.py). Each request carries
a new message (its own Message-ID and Postmark MessageID), so ours stores every one. At
concurrency 1 and 16: latency p50/p95/p99 and accepted per second; targets (issue 21): p99 ≤ 2×
the baseline's and, at concurrency 16, ≥ 0.5× its accepted per second. Also the peak RSS of our
web workers. Diagnostics in the same run: a floor server (anymail + one durable INSERT of the
raw message), both servers with a new connection per request (CONN_MAX_AGE=0), and the time
of each step of our receiver (bench/webhook_phases.py).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from common import ROOT, percentile
from perfdb import ORG_SLUG, WEBHOOK_PASSWORD, WEBHOOK_USER, children, gunicorn, peak_rss_mb, prepare, production_env

DATABASE = "bench_webhook"
REQUESTS = {1: int(os.environ.get("BENCH_WEBHOOK_C1", "300")), 16: int(os.environ.get("BENCH_WEBHOOK_C16", "1200"))}
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "6"))
PATH = "/anymail/postmark/inbound/"
AUTH = "Basic " + base64.b64encode(f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}".encode()).decode()

PARAGRAPH = (
    "Thanks for the walkthrough yesterday. As discussed, the joinery team will start on the kitchen units "
    "on Monday 7 December and expect to finish by Friday 18 December. The worktop template visit is booked "
    "for Wednesday 9 December at 10:00; please make sure the sink and hob are on site by then. The second "
    "stage payment of £4,800 is due on completion of the units, invoice to follow.\n\n"
)


def sender(n: int) -> str:
    # Real traffic comes from many people: one sender posting 1,500 messages a minute is a mail
    # loop, which the default INBOUND_LOOP_LIMIT holds.
    return f"client{n}@client.example"


def message(n: int, *, subject: str = "", opening: str = "") -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Dana Client <{sender(n)}>"
    mail["To"] = f"{ORG_SLUG}@in.localhost"
    mail["Subject"] = subject or f"Harbour Street kitchen: schedule and next payment ({n})"
    mail["Date"] = format_datetime(
        __import__("datetime").datetime(2026, 11, 24, 9, 30, tzinfo=__import__("datetime").UTC)
    )
    mail["Message-ID"] = make_msgid(idstring=f"bench{n}", domain="client.example")
    # A typical business email: a few paragraphs and the quoted thread beneath, about 20 KB in all.
    body = opening + PARAGRAPH * 4 + "".join("> " + line + "\n" for line in (PARAGRAPH * 40).splitlines())
    mail.set_content(body[:19_000])
    return mail.as_bytes()


def payload(n: int, run: str, *, subject: str = "", opening: str = "") -> bytes:
    raw = message(n, subject=subject, opening=opening).replace(b"@client.example>", f".{run}@client.example>".encode())
    return json.dumps(
        {
            "MessageID": f"{run}-{n}",
            "OriginalRecipient": f"{ORG_SLUG}@in.localhost",
            "From": sender(n),
            # As Postmark posts it: the envelope, then its own SPF verdict (an aligned pass).
            "Headers": [
                {"Name": "Return-Path", "Value": f"<{sender(n)}>"},
                {
                    "Name": "Received-SPF",
                    "Value": f"Pass (sender SPF authorized) identity=mailfrom; envelope-from={sender(n)}",
                },
            ],
            "RawEmail": raw.decode(),
        }
    ).encode()


def post(port: int, body: bytes) -> bool:
    """One delivery as Postmark sends it, on a new connection; whether it was answered 200."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request(
            "POST",
            PATH,
            body=body,
            headers={"Host": "localhost", "Content-Type": "application/json", "Authorization": AUTH},
        )
        response = connection.getresponse()
        response.read()
        connection.close()
    except OSError:
        return False
    return response.status == 200


def load(port: int, bodies: list[bytes], concurrency: int) -> tuple[list[float], int, float]:
    """POST every body, `concurrency` at a time; (latencies in s, errors, wall seconds)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    pending = iter(bodies)

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                body = next(pending, None)
            if body is None:
                return
            started = time.perf_counter()
            ok = post(port, body)
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                errors += 0 if ok else 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def stored_emails(env: dict[str, str]) -> int:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()\n"
        "from django_tenants.utils import schema_context\nfrom events.models import Email\n"
        f"from organizations.models import Organization\nschema = Organization.objects.get(slug='{ORG_SLUG}').schema_name\n"
        "with schema_context(schema): print(Email.objects.count())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return int(result.stdout.strip().splitlines()[-1])


def floor_table_create(env: dict[str, str]) -> None:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()\n"
        "from django.db import connection\nfrom bench.webhook_baseline_urls import FLOOR_TABLE\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute(f'CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id bigserial PRIMARY KEY, raw text NOT NULL)')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


Results = dict[int, tuple[list[float], int, float]]  # concurrency → (latencies, errors, wall seconds)
BUSY = 16  # the concurrency of the throughput target


def accepted_rate(results: Results, concurrency: int) -> float:
    latencies, errors, wall = results[concurrency]
    return (len(latencies) - errors) / wall


CpuUse = dict[int, tuple[float, float]]  # concurrency → (server CPU seconds, PostgreSQL CPU seconds)


def cpu_seconds(pids: list[int], *, reaped: bool = False) -> float:
    """User + system CPU of `pids` from /proc; with `reaped`, also what their exited children used."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if reaped else 0)
    return total / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU of the embedded PostgreSQL: its processes, and the backends it has reaped; NaN for a
    server elsewhere (DATABASE_URL)."""
    pidfile = ROOT / ".data" / "pg" / "postmaster.pid"
    if os.environ.get("DATABASE_URL") or not pidfile.exists():
        return float("nan")
    postmaster = int(pidfile.read_text().split()[0])
    return cpu_seconds([postmaster], reaped=True) + cpu_seconds(children(postmaster))


def run_interleaved(servers: dict[str, dict[str, str]]) -> tuple[dict[str, Results], dict[str, CpuUse], float]:
    """Every server up at once, then each concurrency in ROUNDS rounds, each server taking its
    share of a round in turn (the order rotating): a drift of the machine during the run (other
    load, the database's caches) falls on every server alike. Idle servers cost nothing, so the
    CPU its workers and PostgreSQL use during a server's share is that server's."""
    started = {}
    try:
        for label, env in servers.items():
            process, port = gunicorn("config.wsgi", env, workers=2, threads=4)
            started[label] = (process, port)
            load(port, [payload(n, f"{label}-warm") for n in range(20)], 2)
        results: dict[str, Results] = {label: {} for label in servers}
        cpu: dict[str, CpuUse] = {label: {} for label in servers}
        labels = list(servers)
        for concurrency, count in REQUESTS.items():
            share = max(1, count // ROUNDS)
            for label in labels:
                results[label][concurrency] = ([], 0, 0.0)
                cpu[label][concurrency] = (0.0, 0.0)
            for round_ in range(ROUNDS):
                shift = round_ % len(labels)
                for label in labels[shift:] + labels[:shift]:
                    # Senders differ from round to round, as they do between requests: one
                    # sender posting every round would reach the loop limit.
                    numbers = range(round_ * share, (round_ + 1) * share)
                    bodies = [payload(n, f"{label}-c{concurrency}") for n in numbers]
                    workers = children(started[label][0].pid)
                    server_before, postgres_before = cpu_seconds(workers), postgres_cpu()
                    latencies, errors, wall = load(started[label][1], bodies, concurrency)
                    server_used, postgres_used = cpu_seconds(workers) - server_before, postgres_cpu() - postgres_before
                    before = results[label][concurrency]
                    results[label][concurrency] = (before[0] + latencies, before[1] + errors, before[2] + wall)
                    used = cpu[label][concurrency]
                    cpu[label][concurrency] = (used[0] + server_used, used[1] + postgres_used)
        rss = max((peak_rss_mb(pid) for pid in children(started["ours"][0].pid)), default=float("nan"))
    finally:
        for process, _ in started.values():
            process.terminate()
            process.wait(timeout=30)
    return results, cpu, rss


def main() -> None:
    prepare(DATABASE)
    env = production_env(DATABASE, INBOUND_LOOP_LIMIT="20")  # the default: every delivery checked
    baseline_env = dict(env, DJANGO_SETTINGS_MODULE="bench.webhook_baseline_settings")
    before = stored_emails(env)
    floor_table_create(env)
    servers = {
        "baseline": baseline_env,
        "ours": env,
        # Diagnostic: the least any receiver that stores before it answers must do (one INSERT
        # of the raw message into a bare table, one durable commit); the floor under our time.
        "floor": dict(baseline_env, BENCH_WEBHOOK_RECEIVER="durable"),
        # Diagnostic: both servers with a new database connection per request (CONN_MAX_AGE=0,
        # this project's default before persistent connections).
        "baseline-conn0": dict(baseline_env, CONN_MAX_AGE="0"),
        "ours-conn0": dict(env, CONN_MAX_AGE="0"),
    }
    measured, cpu, rss = run_interleaved(servers)
    baseline, ours, floor = measured["baseline"], measured["ours"], measured["floor"]
    baseline_new, ours_new = measured["baseline-conn0"], measured["ours-conn0"]
    stored = stored_emails(env) - before
    if stored > 40 + sum(len(measured[label][c][0]) for label in ("ours", "ours-conn0") for c in REQUESTS):
        raise SystemExit("a baseline server ran our receiver")
    phases = json.loads(
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "webhook_phases.py"), f"phases-{time.time():.0f}"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
    )

    print("## Webhook edge (bench/webhook.py)\n")
    print(
        "Postmark inbound JSON with a ~20 KB message (`RawEmail`, every request a new Message-ID), POSTed to "
        "gunicorn on loopback (2 workers × 4 threads, DEBUG off, as scripts/serve.py runs it); the load generator "
        "shares the 2 cores. Baseline: anymail's own Postmark inbound view with a no-op receiver, same "
        f"settings and database. All servers run side by side; each concurrency is measured in {ROUNDS} rounds in "
        "which every server takes its share in turn, so that the machine's drift during the run falls on all alike.\n"
    )
    print("| concurrency | server | requests | errors | p50 ms | p95 ms | p99 ms | accepted/s |")
    print("|---|---|---|---|---|---|---|---|")
    ratios = []
    for concurrency in REQUESTS:
        for label, results in (("anymail + no-op (baseline)", baseline), ("ours", ours)):
            latencies, errors, wall = results[concurrency]
            accepted = len(latencies) - errors
            print(
                f"| {concurrency} | {label} | {len(latencies)} | {errors} | {1000 * percentile(latencies, 50):.1f} | "
                f"{1000 * percentile(latencies, 95):.1f} | {1000 * percentile(latencies, 99):.1f} | {accepted / wall:.0f} |"
            )
        ours_l, base_l = ours[concurrency][0], baseline[concurrency][0]
        ratios.append(
            (
                concurrency,
                percentile(ours_l, 50) / percentile(base_l, 50),
                percentile(ours_l, 99) / percentile(base_l, 99),
                accepted_rate(ours, concurrency) / accepted_rate(baseline, concurrency),
                ours[concurrency][1] + baseline[concurrency][1],
            )
        )
    diagnostics = (
        ("anymail + one durable INSERT of the raw message (diagnostic floor)", floor),
        ("anymail + no-op, `CONN_MAX_AGE=0` (diagnostic)", baseline_new),
        ("ours, `CONN_MAX_AGE=0` (diagnostic)", ours_new),
    )
    for label, results in diagnostics:
        for concurrency in REQUESTS:
            latencies, errors, wall = results[concurrency]
            print(
                f"| {concurrency} | {label} | {len(latencies)} | {errors} | {1000 * percentile(latencies, 50):.1f} | "
                f"{1000 * percentile(latencies, 95):.1f} | {1000 * percentile(latencies, 99):.1f} | "
                f"{(len(latencies) - errors) / wall:.0f} |"
            )
    # Issue 21 retired the p50 target (≤ 1.5×): the durable floor alone reads 1.2–1.34× on two
    # shared cores. What replaced it: p99 ≤ 2× and, at concurrency 16, ≥ 0.5× the throughput.
    print(
        "\n| concurrency | p50 ours / baseline (no target) | p99 ours / baseline (target ≤ 2×) "
        f"| accepted/s ours / baseline (target ≥ 0.5× at {BUSY}) | errors (target 0) |"
    )
    print("|---|---|---|---|---|")
    for concurrency, p50, p99, rate, errors in ratios:
        rate_mark = (" ✓" if rate >= 0.5 else " ✗") if concurrency == BUSY else ""
        print(
            f"| {concurrency} | {p50:.2f}× | **{p99:.2f}×** {'✓' if p99 <= 2 else '✗'} | **{rate:.2f}×**{rate_mark} "
            f"| {errors} {'✓' if errors == 0 else '✗'} |"
        )
    print(
        "\nCPU per request (diagnostic, same run): user + system time of the server's gunicorn workers and of "
        "PostgreSQL (every process of the embedded server, exited backends included) during that server's "
        "shares of the rounds, divided by its requests. The load generator's own CPU is not counted.\n"
    )
    print("| server | concurrency | gunicorn CPU ms / request | PostgreSQL CPU ms / request | both |")
    print("|---|---|---|---|---|")
    for label, name in (
        ("baseline", "anymail + no-op (baseline)"),
        ("ours", "ours"),
        ("floor", "durable floor"),
        ("baseline-conn0", "baseline, `CONN_MAX_AGE=0`"),
        ("ours-conn0", "ours, `CONN_MAX_AGE=0`"),
    ):
        for concurrency in REQUESTS:
            requests = len(measured[label][concurrency][0])
            app, postgres = (1000 * seconds / requests for seconds in cpu[label][concurrency])
            print(f"| {name} | {concurrency} | {app:.2f} | {postgres:.2f} | {app + postgres:.2f} |")
    print(
        "\nWhere our time goes (diagnostic, same run): one process, Django's test client, the same payloads; "
        "median ms of each step of the receiver, timed around the real functions (bench/webhook_phases.py).\n"
    )
    print("| step | median ms |")
    print("|---|---|")
    for label, value in phases.items():
        print(f"| {label} | {value:.2f} |")

    def p50(results: dict[int, tuple[list[float], int, float]], concurrency: int) -> float:
        return percentile(results[concurrency][0], 50)

    floor_ratio = {c: p50(floor, c) / p50(baseline, c) for c in REQUESTS}
    conn0_ratio = {c: p50(ours_new, c) / p50(baseline_new, c) for c in REQUESTS}
    speedup = {c: p50(ours_new, c) / p50(ours, c) for c in REQUESTS}
    print(
        "\nPersistent connections (`CONN_MAX_AGE=60`, the production default): with a new connection per request "
        "every request pays a new server process whose catalog caches start cold, and ours touches five tables "
        "and their indexes where the baseline touches two. "
        + ". ".join(
            f"At concurrency {c} ours answers {speedup[c]:.1f}× faster with them (p50 {1000 * p50(ours_new, c):.1f} → "
            f"{1000 * p50(ours, c):.1f} ms), the ratio to the baseline with a new connection each time being "
            f"{conn0_ratio[c]:.2f}×"
            for c in REQUESTS
        )
        + ". The baseline gains more in proportion (it has less of its own work), so the ratios above are the "
        "stricter reading."
    )
    if any(p99 > 2 or errors or (c == BUSY and rate < 0.5) for c, _, p99, rate, errors in ratios):
        print(
            "\nWhere a target is missed, why: the baseline parses the payload and stores nothing. A receiver that "
            "only writes the raw message in one durable statement (the floor above) already takes "
            + " and ".join(f"{floor_ratio[c]:.2f}× the baseline at concurrency {c}" for c in REQUESTS)
            + ". Ours also reads its fields from the MIME (headers, text, addresses), routes and checks the sender, "
            "checks the loop limit, builds the signed django-q2 task and writes the raw file, the Email with its "
            "text and headers, its log row, the public Delivery row and the task row; the step table shows each."
        )
        cpu_of = {label: 1000 * sum(cpu[label][BUSY]) / len(measured[label][BUSY][0]) for label in cpu}
        print(
            f"\nAt concurrency {BUSY} the two cores are the limit, so there the throughput follows the CPU each "
            f"request costs (gunicorn and PostgreSQL): the baseline's {cpu_of['baseline']:.2f} ms puts the "
            f"throughput target near {2 * cpu_of['baseline']:.2f} ms; the floor alone costs {cpu_of['floor']:.2f} ms "
            f"and ours {cpu_of['ours']:.2f} ms. "
            "Already done: all four rows in one statement with no transaction of our own (config.sql.rows_insert: "
            "one round trip, atomic, the task committing with the email), the email's id taken with the loop "
            "check in one round trip, no duplicate lookup (the unique constraints decide), every table named "
            "with its schema so the connection never switches its search path, both statements prepared on the "
            "server with their values bound apart from the SQL (no planning, no quoting of the text), no index "
            "that nothing reads, the route cached per process, plain headers and a plain Content-Type read "
            "without the header registry, persistent connections. Per message that leaves 2 statements beyond "
            "the baseline's (the loop check, the store), and what is left is spread over many small steps (the "
            "step table), none of which alone would reach the target. What would come closest: store only the "
            "raw message at the edge, as the floor does, and read the body, write the Email row and queue the "
            "task in the worker, leaving on top of the floor only what needs the headers (routing, the sender "
            "and loop checks). A message would then show in the inbox only once a worker has read it. More "
            "cores, or the load generator on another host, would also change these ratios. See docs/performance.md."
        )
    total = sum(len(ours[c][0]) + len(ours_new[c][0]) for c in REQUESTS)
    print(
        f"\nEmails stored by ours (both connection settings): {stored - 40} of {total} requests (after 2 × 20 "
        f"warm-up ones). Peak RSS of a web worker: {rss:.0f} MB."
    )


if __name__ == "__main__":
    main()
