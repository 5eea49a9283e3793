"""A small learned model that reads a dated sentence and says what it is on a timeline: one of
the event kinds, or "none" (an apology, availability, thanks, a quoted header, a signature).

Why a model: the rules' kind patterns are written per language and per phrase, and on mail
they had not seen most of their mistakes were dated sentences that are not events at all. The
model learns from every labelled set in tests/data (`make train-kinds`, bench/train_kinds.py)
on character n-grams, which carry across the languages the sets hold.

The artifact (extraction/models/kinds.json) is plain JSON — hashed feature weights per class —
so that reading it needs neither scikit-learn nor numpy, and no library version can break it
(Talon's pickles broke across scikit-learn releases). Without the file the rules decide alone.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import math
import os
import re
import sys
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

ARTIFACT = Path(__file__).resolve().parent / "models" / "kinds.json"
# Above this, the model's "none" drops a dated sentence the rules took for an event; above
# ADD_AT, a kind it reads where the rules found none adds the event; above RELABEL_AT its kind
# replaces the rules'. Chosen on leave-one-set-out runs (docs/extraction.md).
DROP_AT, ADD_AT, RELABEL_AT = (float(v) for v in os.environ.get("PROJECTR_KINDS_GATES", "0.6,0.6,0.75").split(","))
NONE = "none"
DROPPABLE = {"meeting", "milestone", "action_item"}
TARGET, OTHER = " qdateq ", " qotherq "


def masked(sentence: str, spans: list[tuple[int, int]], target: int) -> str:
    """The sentence with the date being judged and the other dates replaced by placeholders."""
    out, last = [], 0
    for index, (start, end) in enumerate(sorted(spans)):
        if start < last:
            continue
        out.append(sentence[last:start])
        out.append(TARGET if index == target else OTHER)
        last = end
    out.append(sentence[last:])
    return "".join(out)


def features(text: str, n_features: int) -> dict[int, float]:
    """Hashed word uni- and bigrams and within-word character 3–5-grams, log-scaled, L2-normed."""
    lowered = re.sub(r"\d", "0", text.lower())
    words = re.findall(r"\w+", lowered)
    grams: list[str] = [f"w:{w}" for w in words]
    grams += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    for word in words:
        padded = f" {word} "
        for n in (3, 4, 5):
            grams += [padded[i : i + n] for i in range(max(len(padded) - n + 1, 0))]
    counts: dict[int, float] = {}
    for gram in grams:
        index = zlib.crc32(gram.encode("utf-8")) % n_features
        counts[index] = counts.get(index, 0.0) + 1.0
    for index, count in counts.items():
        counts[index] = 1.0 + math.log(count)
    norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
    return {i: v / norm for i, v in counts.items()}


@dataclass(frozen=True)
class KindModel:
    classes: list[str]
    intercept: list[float]
    weights: list[array]  # one array of n_features floats per class
    n_features: int

    def probabilities(self, text: str) -> dict[str, float]:
        x = features(text, self.n_features)
        scores = [b + sum(w[i] * v for i, v in x.items()) for b, w in zip(self.intercept, self.weights, strict=True)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}


def model_from_json(data: dict[str, object]) -> KindModel:
    weights = []
    for encoded in data["coef"]:  # type: ignore[attr-defined]
        values = array("f")
        values.frombytes(base64.b64decode(encoded))
        if sys.byteorder == "big":  # stored little-endian
            values.byteswap()
        weights.append(values)
    return KindModel(
        classes=list(data["classes"]),  # type: ignore[call-overload]
        intercept=[float(v) for v in data["intercept"]],  # type: ignore[attr-defined]
        weights=weights,
        n_features=int(data["n_features"]),  # type: ignore[call-overload]
    )


def kind_model() -> KindModel | None:
    """The trained model, or None when its artifact is missing (the rules then decide alone).

    PROJECTR_KINDS_MODEL names another artifact (a benchmark's leave-one-set-out model); "off"
    turns the model off."""
    return _load(os.environ.get("PROJECTR_KINDS_MODEL", str(ARTIFACT)))


@functools.cache
def _load(path: str) -> KindModel | None:
    if path == "off":
        return None
    try:
        return model_from_json(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError):
        return None


def judge(model: KindModel, sentence: str, spans: list[tuple[int, int]], target: int, kind: str | None) -> str | None:
    """The rules' kind for a dated sentence, as the model corrects it (None: not an event)."""
    probabilities = model.probabilities(masked(sentence, spans, target))
    best = max((k for k in probabilities if k != NONE), key=lambda k: probabilities[k])
    if kind is None:
        return best if probabilities[best] >= ADD_AT else None
    # Payments and deadlines carry their own words ("invoice due on the 21st"); the model's
    # "none" is for the sentences the rules took for a meeting or a milestone on a date alone.
    if probabilities[NONE] >= DROP_AT and kind in DROPPABLE:
        return None
    if best != kind and probabilities[best] >= RELABEL_AT:
        return best
    return kind
