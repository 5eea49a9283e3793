"""README's "Everyday commands" work from a second terminal while `make run` runs: a plain shell
with none of make run's variables, in a checkout whose `.env` the first `make run` wrote, on the
same database.

The checkout is a copy of this one's code (not its tests or benchmarks) so the `.env` written
here is not this checkout's; its `.data/pg` points at the embedded server this test session uses
(or DATABASE_URL is passed on, as a shell that exported it would), like the second terminal of
a `make run`. Each command runs with `--help` (settings load from `.env`, the command exists, its
options parse); the reading ones run for real against the test database.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_TREES = ("tests/", "bench/", "soak/", "docs/", ".github/")


def readme_commands() -> list[list[str]]:
    """The manage.py commands in README's Everyday commands block, as argv lists."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Everyday commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", block)
    commands = []
    for line in joined.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith(".venv/bin/python manage.py "):
            commands.append(line.split()[2:])
    return commands


@pytest.fixture(scope="module")
def second_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("checkout")
    # Tracked and new files alike (not ignored ones: .env, .venv, .data): the working tree's code.
    listed = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    tracked = subprocess.run(  # noqa: S603 - a fixed command line
        listed,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in tracked.stdout.split("\0"):
        if not name or name.startswith(SKIPPED_TREES) or not (ROOT / name).is_file():
            continue
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    (copy / ".data").mkdir()
    if (ROOT / ".data" / "pg").is_dir():
        (copy / ".data" / "pg").symlink_to(ROOT / ".data" / "pg")
    # What the first `make run` does before anything else.
    spec = importlib.util.spec_from_file_location("run_script", copy / "scripts" / "run.py")
    assert spec is not None and spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    run.dev_env_write()
    return copy


def second_terminal(checkout: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    # A new shell: none of pytest's or make run's variables, only the database this session uses.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    env["DATABASE_NAME"] = str(connection.settings_dict["NAME"])
    return subprocess.run(  # noqa: S603 - our own interpreter and code, README's commands
        [sys.executable, "manage.py", *argv], cwd=checkout, env=env, capture_output=True, text=True, timeout=180
    )


def test_the_readme_lists_the_everyday_commands():
    names = [argv[0] for argv in readme_commands()]
    assert {"onboard_client", "ingest_eml", "export_timeline", "reprocess", "createsuperuser"} <= set(names)


def test_every_everyday_command_starts_from_a_second_terminal(db, second_checkout, session_orgs):
    assert "DEBUG=true" in (second_checkout / ".env").read_text()
    failures = {}
    for name in dict.fromkeys(argv[0] for argv in readme_commands()):
        result = second_terminal(second_checkout, name, "--help")
        if result.returncode != 0 or "usage:" not in result.stdout:
            failures[name] = result.stderr[-2000:]
    assert failures == {}


def test_a_reading_command_uses_the_same_database(db, second_checkout, session_orgs):
    organization = session_orgs[0]
    result = second_terminal(second_checkout, "export_timeline", "--org", organization.slug, "--format", "json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert isinstance(json.loads(result.stdout), list | dict)
