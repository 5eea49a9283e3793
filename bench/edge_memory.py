"""Memory before authentication: a web worker's peak RSS while strangers send 70 MB bodies.

Why: one 70 MB request with wrong credentials took a worker from 200 to 860 MB, three at
once ~1.9 GB, because the body was read before the credentials were checked. Here our server
runs under gunicorn as in production (DEBUG off, 2 workers) on a scratch database; three
clients at once each declare and stream 70 MB to the Postmark and SES URLs with wrong (or no)
credentials, five rounds. Printed: the workers' peak RSS (VmHWM) before and after, and the
answers. Goal: the peak does not move by more than a few MB.

`python bench/edge_memory.py` (make bench runs it).
"""

from __future__ import annotations

import base64
import http.client
import os
import sys
import threading
from collections import Counter

from perfdb import children, gunicorn, peak_rss_mb, prepare, production_env

DATABASE = "bench_edge_memory"
BODY = 70 * 1024 * 1024
CHUNK = b"{" + b" " * (1024 * 1024 - 1)
WRONG = "Basic " + base64.b64encode(b"stranger:guess").decode()


def stranger(port: int, path: str, authorization: str | None, answers: Counter[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("POST", path, skip_host=True)
        connection.putheader("Host", "localhost")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(BODY))
        if authorization:
            connection.putheader("Authorization", authorization)
        connection.endheaders()
        sent = 0
        try:
            while sent < BODY:
                connection.send(CHUNK)
                sent += len(CHUNK)
        except OSError:
            pass  # the server answered and closed without reading: what we want
        answers[str(connection.getresponse().status)] += 1
    except (OSError, http.client.HTTPException) as error:
        answers[type(error).__name__] += 1
    finally:
        connection.close()


def workers_peak(server_pid: int) -> float:
    return max((peak_rss_mb(pid) for pid in children(server_pid)), default=float("nan"))


def main() -> None:
    prepare(DATABASE)
    env = production_env(DATABASE)
    server, port = gunicorn("config.wsgi", env, workers=2, threads=4)
    answers: Counter[str] = Counter()
    try:
        stranger(port, "/anymail/postmark/inbound/", WRONG, Counter())  # warm both paths
        before = workers_peak(server.pid)
        for _ in range(5):
            threads = [
                threading.Thread(target=stranger, args=(port, "/anymail/postmark/inbound/", WRONG, answers)),
                threading.Thread(target=stranger, args=(port, "/anymail/amazon_ses/inbound/", WRONG, answers)),
                threading.Thread(target=stranger, args=(port, "/anymail/amazon_ses/inbound/", None, answers)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        after = workers_peak(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("## Memory before authentication (bench/edge_memory.py)\n")
    print(
        "gunicorn as in production (2 workers × 4 threads, DEBUG off). Five rounds of three strangers at once, each "
        "declaring and streaming a 70 MB body: Postmark with wrong credentials, SES with wrong credentials, SES with "
        "none. Before the fix one such request took a worker from 200 to 860 MB.\n"
    )
    print("| workers' peak RSS before | after 15 requests of 70 MB | answers |")
    print("|---:|---:|---|")
    shown = ", ".join(f"{count} × {status}" for status, count in sorted(answers.items()))
    print(f"| {before:.0f} MB | {after:.0f} MB | {shown} |")
    print(f"\nGrowth: {after - before:.1f} MB (goal: a few MB at most, no body read).")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [here, os.path.dirname(here)]
    main()
