"""The migrations match the models.

Test databases build public tables straight from the models (FAST_TEST_MIGRATIONS), so
this check is what keeps the real migrations, which production runs, honest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_model_change_has_a_migration():
    env = {k: v for k, v in os.environ.items() if k != "FAST_TEST_MIGRATIONS"}
    # No database is needed to compare models with migration files.
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
