"""The rules provider on the labelled sets must not regress (bench/extraction_eval.py prints the details)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def evaluate(data: Path) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("extraction_eval", ROOT / "bench" / "extraction_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.evaluate(data)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "folder,project_floor,event_floor",
    [
        ("labelled", 0.95, 0.9),
        ("labelled_fresh", 0.9, 0.8),
        ("labelled_us", 0.9, 0.8),
        ("labelled_ie", 0.9, 0.75),
        ("labelled_web", 0.9, 0.8),
        ("labelled_ca", 0.9, 0.8),
        ("labelled_de", 0.9, 0.8),
        ("labelled_uk", 0.9, 0.8),
        ("labelled_au", 0.9, 0.8),
    ],
)
def test_the_rules_provider_keeps_its_scores(folder: str, project_floor: float, event_floor: float) -> None:
    result = evaluate(ROOT / "tests" / "data" / folder)

    assert result["emails"] >= 7
    assert result["project_pairwise"]["f1"] >= project_floor
    assert result["events"]["f1"] >= event_floor


def test_the_labelled_set_has_at_least_40_emails_in_several_projects() -> None:
    result = evaluate(ROOT / "tests" / "data" / "labelled")

    assert result["emails"] >= 40 and result["projects_labelled"] >= 8
