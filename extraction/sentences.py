"""Sentences: an email's new text flattened (hard wraps joined, list items apart) and split into
the sentences the event rules read, each with its offset and the list heading it sits under."""

from __future__ import annotations

import re
from dataclasses import dataclass

from extraction.dates import MONTHS
from extraction.words import _rx

# "am 27. November": a day's dot followed by a capitalised month does not end the sentence.
_NOT_AN_END = "".join(
    rf"(?<!{a})"
    for a in (
        r"a\.m\.",
        r"p\.m\.",
        r"A\.M\.",
        r"P\.M\.",
        r"e\.g\.",
        r"i\.e\.",
        r"\bDr\.",
        r"\bMr\.",
        r"\bMs\.",
        r"Mrs\.",
        r"\bSt\.",
        r"\bNo\.",
        r"\bvs\.",
    )
)
# Lower-case writers ("deposit sent today. see you monday") end sentences too; a day's dot does not.
SENTENCE_SPLIT = re.compile(
    rf"(?<=[.!?]){_NOT_AN_END}\s+(?=[A-ZÄÖÜÉÈ\"'(])(?!(?i:{MONTHS})\b)"
    rf"|(?<=[.!?]){_NOT_AN_END}(?<!\d\.)(?<!\bno\.)(?<!\bca\.)(?<!\bapprox\.)\s+(?=[a-zäöüéè])"
    r"|\s*;\s+"
)
CLAUSE_SPLIT = re.compile(r",?\s+(?:and|so|but|while|then|und|et|y|e)\s+|,\s+", re.IGNORECASE)
LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the flattened body
    section: str | None = None  # a list item under "Decisions:" or "Action items:" takes that kind


SECTION_HEADS: list[tuple[str, re.Pattern[str]]] = [
    ("decision", _rx(r"decisions?", r"decided", r"agreed", r"entscheidungen", r"beschlüsse", r"décisions")),
    ("action_item", _rx(r"action items?", r"actions?", r"to-?dos?", r"next steps", r"tasks", r"aufgaben", r"à faire")),
]


def _section_of(lead_in: str) -> str | None:
    for kind, pattern in SECTION_HEADS:
        if pattern.search(lead_in):
            return kind
    return None


def _sentences(body: str) -> tuple[str, list[Sentence]]:
    """Flatten hard-wrapped paragraphs, keep list items apart, split into sentences."""
    units: list[tuple[str, bool]] = []  # (text, is a list item)
    for paragraph in re.split(r"\n\s*\n", body):
        current: list[str] = []
        item = False
        for line in paragraph.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if LIST_ITEM.match(stripped):
                if current:
                    units.append((" ".join(current), item))
                    current = []
                stripped = LIST_ITEM.sub("", stripped)
                item = True
            current.append(stripped)
            if stripped.endswith(":"):  # a lead-in ("Next steps:") is its own unit
                units.append((" ".join(current), False))
                current, item = [], False
        if current:
            units.append((" ".join(current), item))
    flat = "\n".join(text for text, _ in units)
    sentences: list[Sentence] = []
    offset = 0
    section: str | None = None
    for unit, item in units:
        if unit.endswith(":"):
            section = _section_of(unit)
        elif not item:
            section = None
        position = 0
        for piece in SENTENCE_SPLIT.split(unit):
            index = unit.find(piece, position)
            if piece.strip():
                sentences.append(Sentence(piece.strip(), offset + index, section if item else None))
            position = index + len(piece)
        offset += len(unit) + 1
    return flat, sentences
