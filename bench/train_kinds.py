"""Train extraction/kinds.py's model from the labelled sets: `make train-kinds`.

    .venv/bin/python bench/train_kinds.py [--check] [--exclude labelled_x ...]

Every dated sentence of every labelled email is an example: the sentence with that date masked,
labelled with the kind of a labelled event on that date (or "none" when the labels have no event
on it). Emails are read as the product reads them (events.ingest.message_parse: HTML-only mail
becomes text) and split and dated by the rules provider's own code, so that training sees what
the provider sees. Logistic regression (scikit-learn, deterministic lbfgs) on the hashed features
of extraction.kinds; the weights are written as JSON with the sets, the example counts and a
leave-one-set-out score, so the artifact says what it was trained on and how well it did.

Held-out sets (HELD_OUT) are never trained on: their first score is the honest one.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from events.ingest import message_parse, parse_bytes  # noqa: E402
from extraction.dates import find_dates  # noqa: E402
from extraction.kinds import ARTIFACT, NONE, features, masked  # noqa: E402
from extraction.providers.rules import _day_first, _sentences  # noqa: E402
from extraction.text import address_domain, parse_address, prepare  # noqa: E402
from extraction.types import EmailInput  # noqa: E402

N_FEATURES = 2**14
C = 4.0
# Written blind after the model existed: scored, never trained on.
HELD_OUT = ["labelled_milan", "labelled_oslo", "labelled_madrid", "labelled_hamburg", "labelled_lyon"]


def email_input(raw: bytes) -> EmailInput:
    parsed = message_parse(parse_bytes(raw))
    return EmailInput(
        message_id=parsed.message_id,
        subject=parsed.subject,
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        to=parsed.to,
        cc=parsed.cc,
        date=parsed.date,
        text=parsed.text,
        headers=parsed.headers,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
    )


def examples(folder: Path) -> list[tuple[str, str]]:
    """(masked sentence, kind or none) for every exact date mention in the set's emails."""
    labels = json.loads((folder / "labels.json").read_text())
    found: list[tuple[str, str]] = []
    for name, label in sorted(labels["emails"].items()):
        email = email_input((folder / name).read_bytes())
        prepared = prepare(email)
        base_dt = prepared.base_date or email.date
        if base_dt is None:
            continue
        by_date: dict[str, list[str]] = {}
        today = base_dt.date().isoformat()
        for kind, when in label.get("events", []):
            # A decision or a status change is dated the day it is said: the sentence that says
            # it needs no date, and a date of that day elsewhere ("thanks for today") is no sign.
            if when and not (kind in ("decision", "status_change") and when == today):
                by_date.setdefault(when, []).append(kind)
        sender = parse_address(prepared.forwarded_from)[1] if prepared.forwarded_from else email.from_address
        flat, sentences = _sentences(prepared.body)
        mentions = find_dates(flat, base_dt, day_first=_day_first(flat, address_domain(sender), base_dt))
        for sentence in sentences:
            end = sentence.start + len(sentence.text)
            inside = [m for m in mentions if m.start >= sentence.start and m.end <= end]
            spans = [(m.start - sentence.start, m.end - sentence.start) for m in inside]
            for index, mention in enumerate(inside):
                if not mention.exact:
                    continue
                kinds = by_date.get(mention.date.isoformat(), [])
                found.append((masked(sentence.text, spans, index), kinds[0] if kinds else NONE))
    return found


def matrix(texts: list[str]):  # type: ignore[no-untyped-def]
    from scipy.sparse import csr_matrix

    rows, cols, values = [], [], []
    for row, text in enumerate(texts):
        for col, value in features(text, N_FEATURES).items():
            rows.append(row)
            cols.append(col)
            values.append(value)
    return csr_matrix((values, (rows, cols)), shape=(len(texts), N_FEATURES))


def fit(data: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=5000)
    model.fit(matrix([t for t, _ in data]), [k for _, k in data])
    return model


def score(model, data: list[tuple[str, str]]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Event-or-not precision and recall, and kind accuracy on the events, over `data`."""
    predicted = model.predict(matrix([t for t, _ in data]))
    tp = sum(1 for (_, g), p in zip(data, predicted, strict=True) if g != NONE and p != NONE)
    fp = sum(1 for (_, g), p in zip(data, predicted, strict=True) if g == NONE and p != NONE)
    fn = sum(1 for (_, g), p in zip(data, predicted, strict=True) if g != NONE and p == NONE)
    right = sum(1 for (_, g), p in zip(data, predicted, strict=True) if g != NONE and p == g)
    return {
        "event_precision": tp / (tp + fp) if tp + fp else 1.0,
        "event_recall": tp / (tp + fn) if tp + fn else 1.0,
        "kind_accuracy": right / tp if tp else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exclude", action="append", default=[], help="sets not to train on")
    parser.add_argument("--check", action="store_true", help="leave-one-set-out scores only; write nothing")
    parser.add_argument("--output", type=Path, default=ARTIFACT, help="where to write the model")
    parser.add_argument("--no-cv", action="store_true", help="skip the leave-one-set-out scores")
    args = parser.parse_args()
    excluded = set(HELD_OUT) | set(args.exclude)
    folders = sorted(
        p
        for p in (ROOT / "tests" / "data").glob("labelled*")
        if (p / "labels.json").exists() and p.name not in excluded
    )
    per_set = {folder.name: examples(folder) for folder in folders}
    everything = [example for rows in per_set.values() for example in rows]
    print(f"{len(everything)} examples from {len(per_set)} sets: {dict(Counter(k for _, k in everything))}")

    # Leave one set out: how the model does on a set it never saw.
    totals: dict[str, float] = {}
    for name, rows in [] if args.no_cv else per_set.items():
        rest = [example for other, r in per_set.items() if other != name for example in r]
        result = score(fit(rest), rows)
        print(f"  {name:20} " + "  ".join(f"{k} {v:.2f}" for k, v in result.items()))
        for key, value in result.items():
            totals[key] = totals.get(key, 0.0) + value
    loso = {k: round(v / len(per_set), 3) for k, v in totals.items()} if totals else {}
    print("leave-one-set-out mean:", loso)
    if args.check:
        return

    model = fit(everything)
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "version": 1,
                "n_features": N_FEATURES,
                "classes": [str(c) for c in model.classes_],
                "intercept": [round(float(b), 6) for b in model.intercept_],
                "coef": [base64.b64encode(row.astype("<f4").tobytes()).decode() for row in model.coef_],
                "trained_on": sorted(per_set),
                "examples": len(everything),
                "leave_one_set_out": loso,
                "C": C,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
