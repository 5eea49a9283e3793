"""scripts/run.py (`make run`): the first run leaves a `.env` so that manage.py in another terminal
runs in the same development mode, with a secret key of this checkout's own."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_script(root: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    spec = importlib.util.spec_from_file_location("run_script", ROOT / "scripts" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ROOT", root)
    return module


def test_the_first_run_writes_a_development_env_with_a_key_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()

    run_script(first, monkeypatch).dev_env_write()
    run_script(second, monkeypatch).dev_env_write()

    one, two = (first / ".env").read_text(), (second / ".env").read_text()
    assert "DEBUG=true" in one
    keys = [next(line for line in text.splitlines() if line.startswith("SECRET_KEY=")) for text in (one, two)]
    assert keys[0] != keys[1] and len(keys[0]) > 50
    assert (first / ".env").stat().st_mode & 0o077 == 0


def test_an_existing_env_is_left_as_its_owner_wrote_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("DEBUG=false\n")

    run_script(tmp_path, monkeypatch).dev_env_write()

    assert (tmp_path / ".env").read_text() == "DEBUG=false\n"
