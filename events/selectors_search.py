"""Search across the workspace's emails (subject, sender, text), events (title, evidence) and
projects (name, client, aliases): PostgreSQL full-text search on the stored, GIN-indexed
`search` vectors of each table (events.models, projects.models), ranked, with snippets.

The tables are the workspace's own (its schema is on the connection's search path), so another
organization's rows are never read. Three queries, one per kind, whatever the number of matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import Exists, F, FloatField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Left

from events.models import Email, Event
from projects.models import SEARCH_CONFIG, SEARCH_TEXT_CHARS, Project, ProjectAlias

PER_KIND = {"emails": 20, "events": 20, "projects": 10}
MAX_TERMS = 8
MAX_TERM_CHARS = 64
# ts_headline marks a match with these; they are swapped for <mark> only after the text around
# them is escaped (`marked`). Private-use characters: mail has no reason to contain them, and
# if one does, `marked` still only ever emits balanced <mark> tags around escaped text.
START, STOP = "\ue000", "\ue001"
# Words as PostgreSQL's parser splits them for 'simple': letters and digits of any script.
_WORD = re.compile(r"[^\W_]+")


def _headline(expression: Any, query: SearchQuery, *, whole: bool = False) -> SearchHeadline:
    """The text with its matches between START and STOP: all of it (`whole`, a title), or up to
    two fragments of ~18 words (a body, a sentence)."""
    if whole:
        return SearchHeadline(
            expression, query, config=SEARCH_CONFIG, start_sel=START, stop_sel=STOP, highlight_all=True
        )
    return SearchHeadline(
        expression, query, config=SEARCH_CONFIG, start_sel=START, stop_sel=STOP,
        max_fragments=2, max_words=18, min_words=6, short_word="2", fragment_delimiter=" … ",
    )  # fmt: skip


def search_terms(text: str) -> list[str]:
    """The words of a query, lowercased, without duplicates: at most MAX_TERMS, each cut to
    MAX_TERM_CHARS. Only letters and digits, so no tsquery syntax can come from the user."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        word = word[:MAX_TERM_CHARS]
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def search_query(terms: list[str]) -> SearchQuery:
    """Every term must match, each as a word prefix ("invoic" finds "invoices"): with no
    stemming ('simple', see projects.models) the prefix stands in for it, in every language.
    A one-letter term matches only itself, or it would match nearly every row."""
    raw = " & ".join(f"'{term}':*" if len(term) > 1 else f"'{term}'" for term in terms)
    return SearchQuery(raw, search_type="raw", config=SEARCH_CONFIG)


@dataclass(frozen=True)
class Snippet:
    """Text with its matches: (part, matched) pairs, each part plain text for the template to
    escape; the template puts the matched ones in <mark>."""

    parts: list[tuple[str, bool]]

    def __bool__(self) -> bool:
        return any(part for part, _ in self.parts)


def marked(headline: str | None) -> Snippet:
    """A ts_headline result as parts: START…STOP are the matches. Anything else stays text."""
    parts: list[tuple[str, bool]] = []
    inside = False
    for piece in re.split(f"([{START}{STOP}])", " ".join((headline or "").split())):
        if piece == START:
            inside = True
        elif piece == STOP:
            inside = False
        elif piece:
            parts.append((piece, inside))
    return Snippet(parts)


@dataclass
class SearchResults:
    query: str
    terms: list[str]
    emails: list[Email] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    more: dict[str, bool] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.emails) + len(self.events) + len(self.projects)


def email_matches(query: SearchQuery) -> QuerySet[Email]:
    return (
        Email.objects.filter(search=query)
        .select_related("project")
        .only(
            "code",
            "subject",
            "from_name",
            "from_address",
            "date",
            "received_at",
            "state",
            "filing",
            "project__code",
            "project__name",
        )
        .annotate(
            rank=SearchRank(F("search"), query),
            subject_marked=_headline("subject", query, whole=True),
            text_marked=_headline(Left("text", SEARCH_TEXT_CHARS), query),
        )
        .order_by("-rank", "-received_at", "-pk")
    )


def event_matches(query: SearchQuery) -> QuerySet[Event]:
    return (
        Event.objects.filter(search=query, deleted_at__isnull=True)
        .select_related("project", "email")
        .only(
            "code",
            "kind",
            "title",
            "date",
            "time",
            "timezone",
            "status",
            "suggested",
            "done",
            "project__code",
            "project__name",
            "email__code",
            "email__subject",
        )
        .annotate(
            rank=SearchRank(F("search"), query),
            title_marked=_headline("title", query, whole=True),
            evidence_marked=_headline("evidence", query),
        )
        .order_by("-rank", F("date").desc(nulls_last=True), "-pk")
    )


def project_matches(query: SearchQuery) -> QuerySet[Project]:
    """Projects not merged away whose name, client or one of whose aliases match; the best alias
    match ranks it and is shown."""
    aliases = ProjectAlias.objects.filter(project=OuterRef("pk"), search=query)
    best_alias = aliases.annotate(rank=SearchRank(F("search"), query)).order_by("-rank", "pk")
    return (
        Project.objects.filter(merged_into__isnull=True)
        .filter(Exists(aliases) | Exists(Project.objects.filter(pk=OuterRef("pk"), search=query)))
        .only("code", "name", "client_name", "client_email", "status")
        .annotate(
            rank=Greatest(
                SearchRank(F("search"), query),
                Coalesce(Subquery(best_alias.values("rank")[:1]), Value(0.0), output_field=FloatField()),
            ),
            name_marked=_headline("name", query, whole=True),
            client_marked=_headline("client_name", query, whole=True),
            alias_marked=_headline(Subquery(best_alias.values("alias")[:1]), query, whole=True),
        )
        .order_by("-rank", "name", "pk")
    )


def _top(queryset: QuerySet[Email] | QuerySet[Event] | QuerySet[Project], limit: int) -> tuple[list, bool]:  # type: ignore[type-arg]
    rows = list(queryset[: limit + 1])
    return rows[:limit], len(rows) > limit


def search(text: str) -> SearchResults:
    """The best matches of each kind for `text` (three queries; none for a query without words)."""
    terms = search_terms(text)
    results = SearchResults(query=text.strip(), terms=terms)
    if not terms:
        return results
    query = search_query(terms)
    results.emails, results.more["emails"] = _top(email_matches(query), PER_KIND["emails"])
    results.events, results.more["events"] = _top(event_matches(query), PER_KIND["events"])
    results.projects, results.more["projects"] = _top(project_matches(query), PER_KIND["projects"])
    for email in results.emails:
        email.subject_snippet = marked(email.subject_marked)  # type: ignore[attr-defined]
        email.text_snippet = marked(email.text_marked)  # type: ignore[attr-defined]
    for event in results.events:
        event.title_snippet = marked(event.title_marked)  # type: ignore[attr-defined]
        event.evidence_snippet = marked(event.evidence_marked)  # type: ignore[attr-defined]
    for project in results.projects:
        project.name_snippet = marked(project.name_marked)  # type: ignore[attr-defined]
        project.client_snippet = marked(project.client_marked)  # type: ignore[attr-defined]
        project.alias_snippet = marked(project.alias_marked)  # type: ignore[attr-defined]
    return results


def text_matches(text: str, query: str) -> list[tuple[str, bool, bool]] | None:
    """`text` split around the words of `query` (a word starting with a term, any case) as
    (part, matched, first match) for the email page to put in <mark>, each part escaped by the
    template. None when nothing matches."""
    terms = search_terms(query)
    if not text or not terms:
        return None
    # As search_query: a word starting with a term; a one-letter term only as a whole word.
    words = (re.escape(t) + (r"[^\W_]*" if len(t) > 1 else r"(?![^\W_])") for t in sorted(terms, key=len, reverse=True))
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(words) + ")", flags=re.IGNORECASE)
    parts: list[tuple[str, bool, bool]] = []
    position = 0
    for found in pattern.finditer(text):
        if found.start() > position:
            parts.append((text[position : found.start()], False, False))
        parts.append((found.group(0), True, position == 0))  # matches are never empty: 0 only before the first
        position = found.end()
    if not parts:
        return None
    if position < len(text):
        parts.append((text[position:], False, False))
    return parts
