"""Fairness between organizations: the per-organization webhook limit's cost, and one
organization's API flood against another's latency.

1. Webhook limit. Two servers side by side on the same database, as bench/webhook.py runs
   ours (gunicorn, 2 workers × 4 threads, DEBUG off, the database cache, no Redis): the limit
   off (`INBOUND_RATE_LIMIT=0`, the baseline) and on (counted in PostgreSQL, fairness.limits;
   a limit no request reaches, so every one is counted and stored). Concurrency 1 and 16 in
   interleaved rounds. Diagnostic in one process: one counter hit, and the database cache's
   add-then-incr that counted before (config.security.rate_limit_hit).
2. API flood. Organization "bench" floods GET /api/v1/projects from 12 threads with two keys
   while organization "bench2" makes one request at a time with its own key; bench2's median
   alone, and during the flood with the limits as shipped (per key and per organization) and
   with both off (the limits before this change: per key only, and keys unlimited).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time

from common import ROOT, percentile
from perfdb import gunicorn, prepare, production_env
from webhook import load, payload

DATABASE = "bench_fairness"
WEBHOOK_REQUESTS = {
    1: int(os.environ.get("BENCH_FAIRNESS_C1", "240")),
    16: int(os.environ.get("BENCH_FAIRNESS_C16", "960")),
}
ROUNDS = 6
API_SAMPLES = int(os.environ.get("BENCH_FAIRNESS_API_SAMPLES", "150"))
FLOOD_THREADS = 12

SETUP = """
import json
from django_tenants.utils import schema_context
from api.models import ApiKeyScope
from api.services import api_key_create
from organizations.models import Organization, SenderPolicy
from organizations.services import organization_create
from projects.models import Project
flood = Organization.objects.get(slug='bench')
quiet = Organization.objects.filter(slug='bench2').first() or organization_create(
    name='Bench Two', slug='bench2', owner_email='owner@bench2.example', plan='enterprise',
    send_invitation=False, sender_policy=SenderPolicy.ANYONE).organization
keys = {}
for organization in (flood, quiet):
    with schema_context(organization.schema_name):
        for n in range(20):
            Project.objects.get_or_create(name=f'Project {n}', defaults={'slug': f'project-{n}'})
keys['flood'] = [api_key_create(organization=flood, actor=None, name=f'Flood {n}', scope=ApiKeyScope.READ).secret for n in range(2)]
keys['quiet'] = api_key_create(organization=quiet, actor=None, name='Quiet', scope=ApiKeyScope.READ).secret
keys['flood_host'], keys['quiet_host'] = flood.host, quiet.host
print(json.dumps(keys))
"""

MICRO = """
import json, statistics, time
from config.security import rate_limit_hit
from fairness.limits import counter_hit
def timed(call):
    for _ in range(50):
        call()
    samples = []
    for _ in range(600):
        started = time.perf_counter(); call(); samples.append(time.perf_counter() - started)
    return 1000 * statistics.median(samples)
print(json.dumps({
    'counter': timed(lambda: counter_hit('bench:micro', limit=10**9, window=60)),
    'cache': timed(lambda: rate_limit_hit('bench:micro', limit=10**9, window=60)),
}))
"""


def django_run(code: str, env: dict[str, str]) -> dict[str, object]:
    script = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()\n"
    result = subprocess.run(
        [sys.executable, "-c", script + code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def webhook_limit(env: dict[str, str]) -> tuple[dict[str, dict[int, list[float]]], dict[str, int]]:
    servers = {"off": dict(env, INBOUND_RATE_LIMIT="0"), "on": dict(env, INBOUND_RATE_LIMIT="1000000000")}
    started = {
        label: gunicorn("config.wsgi", server_env, workers=2, threads=4) for label, server_env in servers.items()
    }
    latencies: dict[str, dict[int, list[float]]] = {label: {c: [] for c in WEBHOOK_REQUESTS} for label in servers}
    errors = dict.fromkeys(servers, 0)
    try:
        for label, (_, port) in started.items():
            load(port, [payload(n, f"fair-{label}-warm") for n in range(20)], 2)
        labels = list(servers)
        for concurrency, count in WEBHOOK_REQUESTS.items():
            share = max(1, count // ROUNDS)
            for round_ in range(ROUNDS):
                for label in labels[round_ % 2 :] + labels[: round_ % 2]:
                    bodies = [
                        payload(n, f"fair-{label}-c{concurrency}") for n in range(round_ * share, (round_ + 1) * share)
                    ]
                    measured, failed, _ = load(started[label][1], bodies, concurrency)
                    latencies[label][concurrency] += measured
                    errors[label] += failed
    finally:
        for process, _ in started.values():
            process.terminate()
            process.wait(timeout=30)
    return latencies, errors


def api_get(port: int, host: str, key: str, timeout: float = 60) -> tuple[float, int]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("GET", "/api/v1/projects", headers={"Host": host, "Authorization": f"Bearer {key}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return time.perf_counter() - started, response.status


def flood_measure(port: int, keys: dict[str, object]) -> dict[str, object]:
    """bench2 alone, then during bench's flood, on one running server."""
    quiet_host, quiet_key, flood_host = str(keys["quiet_host"]), str(keys["quiet"]), str(keys["flood_host"])
    flood_keys = [str(key) for key in keys["flood"]]  # type: ignore[attr-defined]
    for _ in range(10):  # the workers boot and import on their first requests (minutes on a busy machine)
        api_get(port, quiet_host, quiet_key, timeout=600)
    alone = [api_get(port, quiet_host, quiet_key)[0] for _ in range(API_SAMPLES)]
    stop = threading.Event()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def flood(n: int) -> None:
        key = flood_keys[n % len(flood_keys)]
        while not stop.is_set():
            try:
                _, status = api_get(port, flood_host, key)
            except OSError:
                status = 0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(FLOOD_THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(2)  # the flood is under way (and past its allowance) before measuring
    during = [api_get(port, quiet_host, quiet_key)[0] for _ in range(API_SAMPLES)]
    stop.set()
    for thread in threads:
        thread.join()
    return {"alone": alone, "during": during, "statuses": statuses, "flood_seconds": time.perf_counter() - started}


def api_flood(env: dict[str, str], keys: dict[str, object]) -> dict[str, dict[str, object]]:
    """bench2's latency alone and during bench's flood, per configuration."""
    configurations = {
        "as shipped (300/min per organization, 120/min per key)": env,
        "both limits off (before)": dict(env, API_ORGANIZATION_RATE_LIMIT="0/min", API_RATE_LIMIT="100000000/min"),
    }
    results: dict[str, dict[str, object]] = {}
    for label, server_env in configurations.items():
        process, port = gunicorn("config.wsgi", server_env, workers=2, threads=4)
        try:
            results[label] = flood_measure(port, keys)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return results


def main() -> None:
    prepare(DATABASE)
    env = production_env(DATABASE, INBOUND_LOOP_LIMIT="20")
    keys = django_run(SETUP, env)
    micro = django_run(MICRO, env)
    latencies, errors = webhook_limit(env)
    flood = api_flood(env, keys)

    print("## Fairness between organizations (bench/org_fairness.py)\n")
    print("### The per-organization webhook limit on PostgreSQL\n")
    print(
        "Postmark inbound JSON with a ~20 KB message (bench/webhook.py's payloads) to gunicorn on loopback "
        "(2 workers × 4 threads, DEBUG off, the database cache: no Redis). Two servers side by side, each "
        f"concurrency in {ROUNDS} interleaved rounds: the limit off (baseline) and on, counted in PostgreSQL "
        "(fairness.limits), with a limit no request reaches so every delivery is counted and stored.\n"
    )
    print("| concurrency | limit | requests | errors | p50 ms | p95 ms | p50 on − off |")
    print("|---|---|---|---|---|---|---|")
    for concurrency in WEBHOOK_REQUESTS:
        off, on = latencies["off"][concurrency], latencies["on"][concurrency]
        for label, values in (("off (baseline)", off), ("on, PostgreSQL counter", on)):
            print(
                f"| {concurrency} | {label} | {len(values)} | {errors['off' if values is off else 'on']} | "
                f"{1000 * percentile(values, 50):.1f} | {1000 * percentile(values, 95):.1f} | "
                + (f"{1000 * (percentile(on, 50) - percentile(off, 50)):+.2f} ms |" if values is on else "|")
            )
    print(
        f"\nOne hit in one process (diagnostic, median of 600): the PostgreSQL counter {micro['counter']:.3f} ms "
        f"(one statement on an UNLOGGED row); the database cache's add-then-incr that counted before "
        f"{micro['cache']:.3f} ms (config.security.rate_limit_hit: its reads, writes and cull count in transactions).\n"
    )
    print("### One organization's API flood against another's latency\n")
    print(
        f"Organization bench floods `GET /api/v1/projects` from {FLOOD_THREADS} threads with two keys, without "
        "waiting for Retry-After; organization bench2 makes one request at a time with its own key (20 projects "
        f"each), {API_SAMPLES} requests alone and {API_SAMPLES} during the flood. gunicorn, 2 workers × 4 threads, "
        "the database cache; the load generator shares the 2 cores.\n"
    )
    print("| limits | bench2 p50 alone | bench2 p50 during the flood | ratio | bench2 p95 during | flood's answers |")
    print("|---|---|---|---|---|---|")
    for label, result in flood.items():
        alone, during = result["alone"], result["during"]
        statuses = result["statuses"]
        seconds = float(result["flood_seconds"])  # type: ignore[arg-type]
        answers = ", ".join(f"{count} × {status or 'error'}" for status, count in sorted(statuses.items()))  # type: ignore[attr-defined]
        print(
            f"| {label} | {1000 * percentile(alone, 50):.1f} ms | {1000 * percentile(during, 50):.1f} ms | "  # type: ignore[arg-type]
            f"{percentile(during, 50) / percentile(alone, 50):.2f}× | {1000 * percentile(during, 95):.1f} ms | "  # type: ignore[arg-type]
            f"{answers} in {seconds:.0f} s |"
        )


if __name__ == "__main__":
    main()
