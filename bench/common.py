"""Shared helpers for benchmarks: a scratch database on the embedded (or configured) server."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_env(database: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DEBUG": "true", "DATABASE_NAME": database, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"})
    env.update(extra)
    return env


def recreate_database(name: str) -> None:
    """Drop and create `name` on the server the settings point at."""
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
        "from django.db import connection;"
        "connection.ensure_connection(); connection.connection.autocommit = True;"
        "cur = connection.connection.cursor();"
        f"cur.execute('DROP DATABASE IF EXISTS {name} WITH (FORCE)'); cur.execute('CREATE DATABASE {name}')"
    )
    env = bench_env("postgres")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
