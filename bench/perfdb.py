"""A scratch database with the platform and one organization ("bench"), for the performance benchmarks.

`prepare(name)` copies a template database (`bench_perf_base`) built once with the real
migrations and kept while no migration file changes (its fingerprint is the database's
comment), so each benchmark starts from a fresh copy in seconds. `production_env(name)` is the
environment of a server run as in production (DEBUG off: no query log in memory), on loopback.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, bench_env, manage, recreate_database

ORG_SLUG = "bench"
WEBHOOK_USER, WEBHOOK_PASSWORD = "bench", "bench-secret"
BASE = "bench_perf_base"

SETUP = (
    "from organizations.models import Organization, SenderPolicy\n"
    "from organizations.services import organization_create\nfrom billing.services import plans_ensure\n"
    "plans_ensure()\n"
    f"organization_create(name='Bench', slug='{ORG_SLUG}', owner_email='owner@bench.example', plan='enterprise', "
    "send_invitation=False, sender_policy=SenderPolicy.ANYONE)\n"
)


def _fingerprint() -> str:
    files = sorted(ROOT.glob("*/migrations/*.py")) + sorted(ROOT.glob("bench/perfdb.py"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _sql(statements: str) -> str:
    """Run SQL on the server's maintenance database (autocommit); returns what the last one printed."""
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()\n"
        "from django.db import connection\n"
        "connection.ensure_connection(); connection.connection.autocommit = True\n"
        "cur = connection.connection.cursor()\nout = None\n"
        f"for statement in {statements!r}.split(';;'):\n"
        "    cur.execute(statement)\n"
        "    out = cur.fetchone() if cur.description else out\n"
        "print(out[0] if out else '')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=bench_env("postgres"), check=True, capture_output=True, text=True
    )
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def _base_ready(fingerprint: str) -> bool:
    return (
        _sql(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = "
            f"'{BASE}' UNION ALL SELECT NULL LIMIT 1"
        )
        == fingerprint
    )


def prepare(database: str) -> None:
    if os.environ.get("BENCH_REUSE_DB") == "1":
        return
    fingerprint = _fingerprint()
    if not _base_ready(fingerprint):
        recreate_database(BASE)
        env = bench_env(BASE)
        manage("migrate_schemas", "--shared", "--noinput", env=env)
        manage("createcachetable", env=env)
        manage("setup_platform", env=env)
        code = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()\n"
        subprocess.run([sys.executable, "-c", code + SETUP], cwd=ROOT, env=env, check=True)
        _sql(f"COMMENT ON DATABASE {BASE} IS '{fingerprint}'")
    _sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE);; CREATE DATABASE {database} TEMPLATE {BASE}")


def production_env(database: str, **extra: str) -> dict[str, str]:
    settings = {
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_MANIFEST": "false",
        "ANYMAIL_WEBHOOK_SECRET": f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}",
        # Benchmarks that replay the labelled set send many messages from one sender.
        "INBOUND_LOOP_LIMIT": "1000000",
    }
    return bench_env(database, **(settings | extra))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn(
    app: str, env: dict[str, str], *, workers: int = 2, threads: int = 1
) -> tuple[subprocess.Popen[bytes], int]:
    """A gunicorn on loopback, started and answering; the caller terminates it."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        app,
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn {app} did not start")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the highest resident set size the process reached."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
