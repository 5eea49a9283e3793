"""The import contracts (pyproject.toml [tool.importlinter]) fail `make test` when code breaks them.

Each test copies the apps and the configuration to a temporary folder, checks that the copy keeps
every contract, then adds one line that breaks a contract and checks that `lint-imports` fails
and names the break: the same copy and the same command, so only the added line differs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

APPS = (
    "accounts", "api", "billing", "config", "demo", "events", "extraction", "fairness", "inbound",
    "ops", "organizations", "projects", "usage",
)  # fmt: skip
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The apps' Python files, the configuration and the custom contract, nothing else."""
    root = tmp_path_factory.mktemp("contracts")
    for app in APPS:
        shutil.copytree(ROOT / app, root / app, ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.txt"))
    (root / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "import_contracts.py", root / "scripts")
    shutil.copy(ROOT / "pyproject.toml", root)
    return root


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own venv's console script, fixed arguments
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


@pytest.mark.parametrize(
    ("module", "line", "report"),
    [
        # events sits below inbound: the inbox page moved up to inbound for this.
        ("events/selectors.py", "from inbound.models import Delivery", "events is not allowed to import inbound"),
        # usage sits below billing: the usage page is composed in config for this.
        ("usage/selectors.py", "from billing.selectors import billing_snapshot", "usage is not allowed to import billing"),
        ("extraction/types.py", "from organizations.models import Organization", "extraction is not allowed to import organizations"),
        # processing and tasks each enqueue through events.enqueue, so neither imports the other back.
        ("events/processing.py", "from events.tasks import email_process_task", "No cycles are allowed in events"),
        ("usage/selectors.py", "from django.apps import apps\nEMAIL = apps.get_model('events', 'Email')", "apps.get_model('events', 'Email') reaches a model of events"),
        ("projects/models.py", "EVENT = Project._meta.get_field('events').related_model", "related_model reaches a model without importing it"),
        ("billing/tasks.py", "from importlib import import_module\nUSAGE = import_module('usage.services')", "import_module('usage.services') imports usage by name"),
    ],
)  # fmt: skip
def test_a_broken_contract_fails_lint_imports(tree: Path, module: str, line: str, report: str) -> None:
    kept = lint_imports(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    path = tree / module
    original = path.read_text()
    path.write_text(f"{original}\n{line}\n")
    try:
        broken = lint_imports(tree)
    finally:
        path.write_text(original)

    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "BROKEN" in broken.stdout
    assert report in " ".join(broken.stdout.split()), broken.stdout
