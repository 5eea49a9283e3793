"""The rules provider on the labelled sets must not regress (bench/extraction_eval.py prints the details)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench_module() -> Any:
    spec = importlib.util.spec_from_file_location("extraction_eval", ROOT / "bench" / "extraction_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def evaluate(data: Path) -> dict[str, Any]:
    return bench_module().evaluate(data)  # type: ignore[no-any-return]


ALL_SETS = sorted(p.name for p in (ROOT / "tests" / "data").glob("labelled*") if (p / "labels.json").exists())


# Grouping is pairwise over emails: an email left Unfiled for a person is grouped with nobody,
# so asking lowers recall (and F1) while a wrong filing lowers precision, which must stay ~1.
@pytest.mark.parametrize(
    "folder,project_floor,event_floor",
    [
        ("labelled", 0.9, 0.9),
        ("labelled_fresh", 0.6, 0.8),
        ("labelled_us", 0.83, 0.8),
        ("labelled_ie", 0.85, 0.75),
        ("labelled_web", 0.65, 0.8),
        ("labelled_ca", 0.83, 0.8),
        ("labelled_de", 0.95, 0.8),
        ("labelled_uk", 0.95, 0.8),
        ("labelled_au", 0.6, 0.8),
    ],
)
def test_the_rules_provider_keeps_its_scores(folder: str, project_floor: float, event_floor: float) -> None:
    result = evaluate(ROOT / "tests" / "data" / folder)

    assert result["emails"] >= 7
    assert result["project_pairwise"]["precision"] >= 0.95
    assert result["project_pairwise"]["f1"] >= project_floor
    assert result["events"]["f1"] >= event_floor


@pytest.mark.parametrize("folder", ALL_SETS)
def test_new_projects_are_named_from_a_subject_never_from_a_body_sentence(folder: str) -> None:
    module = bench_module()
    data = ROOT / "tests" / "data" / folder
    labels = module.json.loads((data / "labels.json").read_text())
    emails = sorted(
        (module.email_from_file(data / name) for name in labels["emails"]),
        key=lambda e: e.date.timestamp() if e.date else 0,
    )
    pipeline = module.Pipeline(labels.get("organization_domains", []))
    for email in emails:
        pipeline.apply(email, module.rules.extract(email, pipeline.context(email)))

    for project in pipeline.projects.values():
        topic = project.name.split(" – ")[-1]
        subjects = " ".join(project.subjects[:1])
        assert module.rules._folded(topic) <= module.rules._folded(subjects) | module.rules._folded(
            project.client_name
        ), f"{project.name!r} is not named from its first subject {subjects!r}"


def test_the_labelled_set_has_at_least_40_emails_in_several_projects() -> None:
    result = evaluate(ROOT / "tests" / "data" / "labelled")

    assert result["emails"] >= 40 and result["projects_labelled"] >= 8
