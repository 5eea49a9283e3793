"""Secrets come from the environment or from a file named by NAME_FILE (Docker/Kubernetes secrets)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.security import env_secret

SECRETS = [
    "SECRET_KEY",
    "ANYMAIL_WEBHOOK_SECRET",
    "STRIPE_LIVE_SECRET_KEY",
    "STRIPE_TEST_SECRET_KEY",
    "ANTHROPIC_API_KEY",
]


def test_it_reads_the_environment_variable(monkeypatch):
    monkeypatch.setenv("PROJECTR_TEST_SECRET", "from-env")
    monkeypatch.delenv("PROJECTR_TEST_SECRET_FILE", raising=False)
    assert env_secret("PROJECTR_TEST_SECRET") == "from-env"


def test_it_reads_the_file_and_strips_the_newline(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.delenv("PROJECTR_TEST_SECRET", raising=False)
    monkeypatch.setenv("PROJECTR_TEST_SECRET_FILE", str(secret))
    assert env_secret("PROJECTR_TEST_SECRET") == "from-file"


def test_it_refuses_both_at_once(monkeypatch, tmp_path):
    monkeypatch.setenv("PROJECTR_TEST_SECRET", "a")
    monkeypatch.setenv("PROJECTR_TEST_SECRET_FILE", str(tmp_path / "x"))
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("PROJECTR_TEST_SECRET")


def test_it_names_an_unreadable_file(monkeypatch, tmp_path):
    monkeypatch.delenv("PROJECTR_TEST_SECRET", raising=False)
    monkeypatch.setenv("PROJECTR_TEST_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="PROJECTR_TEST_SECRET_FILE"):
        env_secret("PROJECTR_TEST_SECRET")


def test_it_is_empty_when_neither_is_set(monkeypatch):
    monkeypatch.delenv("PROJECTR_TEST_SECRET", raising=False)
    monkeypatch.delenv("PROJECTR_TEST_SECRET_FILE", raising=False)
    assert env_secret("PROJECTR_TEST_SECRET") == ""


def test_settings_read_every_secret_from_its_file(tmp_path):
    import subprocess
    import sys

    from tests.security.test_deploy import ROOT, production_env

    env = production_env()
    for name in SECRETS:
        env.pop(name, None)
        path = tmp_path / name.lower()
        path.write_text(f"{name.lower()}-from-file-value\n")
        env[f"{name}_FILE"] = str(path)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print('|'.join(str(getattr(settings, n)) for n in {SECRETS!r}))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    values = result.stdout.strip().splitlines()[-1].split("|")
    assert values == [f"{name.lower()}-from-file-value" for name in SECRETS]
