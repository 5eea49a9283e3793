"""Start-up refuses unsafe production settings with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ANYMAIL_WEBHOOK_SECRET", "DEBUG"}}
    environment.update(env)
    environment["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"  # settings must not need a database
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = import_settings(DEBUG="false", ANYMAIL_WEBHOOK_SECRET="a:b")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_refuses_to_start_without_a_webhook_secret_when_debug_is_off():
    result = import_settings(DEBUG="false", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ANYMAIL_WEBHOOK_SECRET is not set" in result.stderr


def test_it_starts_with_both_secrets():
    result = import_settings(DEBUG="false", SECRET_KEY="x" * 50, ANYMAIL_WEBHOOK_SECRET="a:b")
    assert result.returncode == 0, result.stderr


def test_development_needs_no_secrets():
    result = import_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_every_variable_the_settings_read_is_documented_in_env_example():
    import re

    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r"""(?:env(?:\.\w+)?|env_secret)\(\s*["']([A-Z][A-Z0-9_]+)["']""", settings_source))
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "the pattern finds the settings' variables"
    assert read - documented == set()
