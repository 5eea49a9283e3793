"""extraction/kinds.py: the dated-sentence model reads its JSON artifact without scikit-learn, and
corrects the rules only where it is sure."""

from __future__ import annotations

import base64
import json
from array import array
from pathlib import Path

import pytest

from extraction import kinds
from extraction.kinds import KindModel, features, judge, masked, model_from_json

N = 64


def model(weights: dict[str, dict[int, float]], intercept: dict[str, float] | None = None) -> KindModel:
    classes = sorted(weights)
    rows = [array("f", [weights[c].get(i, 0.0) for i in range(N)]) for c in classes]
    return KindModel(classes, [(intercept or {}).get(c, 0.0) for c in classes], rows, N)


def test_the_date_being_judged_and_the_other_dates_are_masked_apart() -> None:
    text = "Site visit on 3 March, not 4 March."

    assert masked(text, [(14, 21), (27, 34)], 0) == "Site visit on  qdateq , not  qotherq ."


def test_features_are_the_same_for_the_same_text_and_unit_length() -> None:
    first, second = features("Kickoff on qdateq", 2**14), features("Kickoff on qdateq", 2**14)

    assert first == second
    assert sum(v * v for v in first.values()) == pytest.approx(1.0)


def test_an_artifact_written_as_json_reads_back_to_the_same_probabilities(tmp_path: Path) -> None:
    trained = model({"meeting": {1: 2.0}, "none": {2: 1.0}}, {"meeting": 0.1, "none": -0.1})
    path = tmp_path / "kinds.json"
    path.write_text(
        json.dumps(
            {
                "n_features": N,
                "classes": trained.classes,
                "intercept": trained.intercept,
                "coef": [base64.b64encode(w.tobytes()).decode() for w in trained.weights],
            }
        )
    )

    loaded = model_from_json(json.loads(path.read_text()))

    assert loaded.probabilities("Call on qdateq") == pytest.approx(trained.probabilities("Call on qdateq"))


def test_a_sure_none_drops_the_rules_event_and_a_sure_kind_adds_one(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Sorry, something came up on Tuesday."
    sure_none = model({"meeting": {}, "none": dict.fromkeys(range(N), 50.0)})
    sure_meeting = model({"meeting": dict.fromkeys(range(N), 50.0), "none": {}})

    assert judge(sure_none, text, [(28, 35)], 0, "milestone") is None
    assert judge(sure_meeting, text, [(28, 35)], 0, None) == "meeting"


def test_an_unsure_model_leaves_the_rules_kind_alone() -> None:
    even = model({"meeting": {}, "milestone": {}, "none": {}})

    assert judge(even, "Handover on Friday.", [(12, 18)], 0, "milestone") == "milestone"


def test_without_an_artifact_the_rules_decide_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROJECTR_KINDS_MODEL", str(tmp_path / "missing.json"))

    assert kinds.kind_model() is None
