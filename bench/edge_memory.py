"""Memory before authentication: a web worker's RSS while strangers send 70 MB bodies.

Why: one 70 MB request with wrong credentials took a worker from 200 to 860 MB, three at
once ~1.9 GB, because the body was read before the credentials were checked. Here the server
runs under gunicorn as in production (DEBUG off, 2 workers × 4 threads) on a scratch database.
Each case (the Postmark URL with wrong credentials, the SES URL with wrong and with no
credentials; one request, then three at once) gets a fresh server, warmed with small requests,
then three rounds of strangers who each declare and stream 70 MB. Printed per case: the largest
worker's RSS before (VmRSS after the warm-up) and its peak after (VmHWM), the growth, and the
answers. The same cases run against a control (bench/edge_memory_control.py: the same server
with a first middleware that reads the body before anything checks credentials), which shows
what the requests cost when the body is read. Goal: our workers grow by a few MB at most.

`python bench/edge_memory.py` (make bench runs it).
"""

from __future__ import annotations

import base64
import http.client
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from perfdb import children, gunicorn, peak_rss_mb, prepare, production_env

DATABASE = "bench_edge_memory"
BODY = 70 * 1024 * 1024
CHUNK = b"{" + b" " * (1024 * 1024 - 1)
WRONG = "Basic " + base64.b64encode(b"stranger:guess").decode()
ROUNDS = 3
POSTMARK, SES = "/anymail/postmark/inbound/", "/anymail/amazon_ses/inbound/"
CASES = [
    ("Postmark", POSTMARK, WRONG),
    ("SES", SES, WRONG),
    ("SES", SES, None),
]
SERVERS = [
    ("ours", "config.settings"),
    ("control: body read first", "bench.edge_memory_control"),
]


@dataclass
class Result:
    server: str
    url: str
    credentials: str
    at_once: int
    before_mb: float
    peak_mb: float
    answers: Counter[str]
    seconds: float


def stranger(port: int, path: str, authorization: str | None, answers: Counter[str], size: int = BODY) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.putrequest("POST", path, skip_host=True)
        connection.putheader("Host", "localhost")
        connection.putheader("Content-Type", "application/json")
        if path == SES:  # what SNS sends, so anymail's SES checks get as far as they can
            connection.putheader("x-amz-sns-message-type", "Notification")
        connection.putheader("Content-Length", str(size))
        if authorization:
            connection.putheader("Authorization", authorization)
        connection.endheaders()
        sent = 0
        try:
            while sent < size:
                piece = CHUNK[: size - sent]
                connection.send(piece)
                sent += len(piece)
        except OSError:
            pass  # the server answered and closed without reading: what we want
        answers[str(connection.getresponse().status)] += 1
    except (OSError, http.client.HTTPException) as error:
        answers[type(error).__name__] += 1
    finally:
        connection.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_case(settings_module: str, server_name: str, case: tuple[str, str, str | None], at_once: int) -> Result:
    name, path, authorization = case
    env = production_env(DATABASE, DJANGO_SETTINGS_MODULE=settings_module)
    server, port = gunicorn("config.wsgi", env, workers=2, threads=4)
    answers: Counter[str] = Counter()
    try:
        # Small requests to both URLs, enough for both workers to have run every path once.
        for _ in range(8):
            for warm_path in (POSTMARK, SES):
                stranger(port, warm_path, authorization, Counter(), size=64 * 1024)
        workers = children(server.pid)
        before = max(rss_mb(pid) for pid in workers)
        started = time.perf_counter()
        for _ in range(ROUNDS):
            threads = [
                threading.Thread(target=stranger, args=(port, path, authorization, answers)) for _ in range(at_once)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        seconds = time.perf_counter() - started
        peak = max(peak_rss_mb(pid) for pid in workers)
    finally:
        server.terminate()
        server.wait(timeout=30)
    credentials = "wrong" if authorization else "none"
    return Result(server_name, name, credentials, at_once, before, peak, answers, seconds)


def main() -> None:
    prepare(DATABASE)
    results = [
        run_case(settings_module, server_name, case, at_once)
        for server_name, settings_module in SERVERS
        for at_once in (1, 3)
        for case in CASES
    ]
    print("## Memory before authentication (bench/edge_memory.py)\n")
    print(
        "gunicorn as in production (2 workers × 4 threads, DEBUG off), a fresh server per case, warmed with small "
        f"requests. Each case: {ROUNDS} rounds of strangers who each declare and stream a 70 MB body, one at a time "
        "or three at once. RSS is the largest worker's: VmRSS after the warm-up, VmHWM (its peak) after the "
        "rounds. The control is the same server with a first middleware that reads the whole body before anything "
        "checks credentials (bench/edge_memory_control.py). Before the edge checked credentials first, one such "
        "request took a worker from 200 to 860 MB.\n"
    )
    print("| server | URL | credentials | at once | requests | worker RSS before | peak after | growth | answers |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        shown = ", ".join(f"{count} × {status}" for status, count in sorted(r.answers.items()))
        print(
            f"| {r.server} | {r.url} | {r.credentials} | {r.at_once} | {sum(r.answers.values())} "
            f"| {r.before_mb:.0f} MB | {r.peak_mb:.0f} MB | {r.peak_mb - r.before_mb:+.1f} MB | {shown} |"
        )
    ours = [r.peak_mb - r.before_mb for r in results if r.server == "ours"]
    print(f"\nOur workers' largest growth: {max(ours):.1f} MB (goal: a few MB at most, no body read).")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [here, os.path.dirname(here)]
    main()
