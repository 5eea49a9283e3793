"""Timeline and email reads. Every page costs a fixed number of queries whatever the project size."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from events.models import Email, EmailFiling, EmailState, Event, EventHistory, EventKind, FilingState
from projects.models import Project
from projects.selectors import project_filing_choices

PAGE_SIZE = 50
# Undated events sort after every dated one; untimed ones first on their day.
_UNDATED = date(9999, 12, 31)
_NO_TIME = time(0, 0)
UNDATED_KEY = "undated"
WHEN_CHOICES = (("all", "All"), ("upcoming", "Upcoming"), ("past", "Past"))


@dataclass(frozen=True)
class TimelineFilter:
    kinds: tuple[str, ...] = ()
    when: str = "all"  # all | upcoming | past
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.kinds or self.when != "all" or self.date_from or self.date_to or self.q)


@dataclass
class MonthGroup:
    key: str  # "2026-11" or "undated"
    label: str
    events: list[Event] = field(default_factory=list)
    continued: bool = False  # the previous page already showed this month's heading
    today_first: bool = False  # the "today" line goes before this month's heading


@dataclass
class TimelinePage:
    groups: list[MonthGroup]
    next_cursor: str | None
    count: int
    today: date | None = None
    today_before: int | None = None  # the "today" line goes before this event (its pk), in its month
    today_at_end: bool = False  # after every event of this (last) page: everything is past


def cursor_encode(event: Event) -> str:
    sort_date = event.date or _UNDATED
    sort_time = event.time or _NO_TIME
    raw = f"{sort_date.isoformat()}|{sort_time.isoformat()}|{event.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[date, time, int] | None:
    """The position after which the next page starts; None for a missing or tampered cursor."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        sort_date, sort_time, pk = raw.split("|")
        return date.fromisoformat(sort_date), time.fromisoformat(sort_time), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def month_key(day: date | None) -> str:
    return UNDATED_KEY if day is None or day == _UNDATED else f"{day:%Y-%m}"


def timeline_events(*, project: Project | None, filters: TimelineFilter, today: date | None = None) -> QuerySet[Event]:
    """Events of one project (or the whole workspace) in timeline order, filtered; soft-deleted ones excluded."""
    today = today or timezone.localdate()
    events = Event.objects.filter(deleted_at__isnull=True).annotate(
        sort_date=Coalesce("date", Value(_UNDATED)), sort_time=Coalesce("time", Value(_NO_TIME))
    )
    if project is not None:
        events = events.filter(project=project)
    kinds = [k for k in filters.kinds if k in EventKind.values]
    if kinds:
        events = events.filter(kind__in=kinds)
    if filters.when == "upcoming":
        # What is coming up: not the suggestions (Event.suggested) nobody accepted yet.
        events = events.filter(date__gte=today, suggested=False)
    elif filters.when == "past":
        events = events.filter(date__lt=today)
    if filters.date_from:
        events = events.filter(date__gte=filters.date_from)
    if filters.date_to:
        events = events.filter(date__lte=filters.date_to)
    if filters.q.strip():
        q = filters.q.strip()
        events = events.filter(
            Q(title__icontains=q) | Q(description__icontains=q) | Q(evidence__icontains=q) | Q(people__icontains=q)
        )
    return events.order_by("sort_date", "sort_time", "pk")


def event_history() -> QuerySet[EventHistory]:
    """An event's history as its row shows it, with who acted and the email behind a confirmation
    in the same query (joined, without the email's bodies and headers)."""
    return (
        EventHistory.objects.select_related("actor", "email")
        .defer("email__text", "email__html", "email__headers")
        .order_by("at", "id")
    )


def timeline_page(
    *,
    project: Project | None,
    filters: TimelineFilter,
    cursor: str = "",
    size: int = PAGE_SIZE,
    today: date | None = None,
) -> TimelinePage:
    """One page of the timeline after `cursor` (keyset pagination: no OFFSET, no COUNT)."""
    today = today or timezone.localdate()
    events = timeline_events(project=project, filters=filters, today=today)
    position = cursor_decode(cursor)
    previous_key = ""
    if position is not None:
        after_date, after_time, after_pk = position
        events = events.filter(
            Q(sort_date__gt=after_date)
            | Q(sort_date=after_date, sort_time__gt=after_time)
            | Q(sort_date=after_date, sort_time=after_time, pk__gt=after_pk)
        )
        previous_key = month_key(after_date)
    rows = list(
        events.select_related("email", "edited_by", "superseded_by", "project").prefetch_related(
            Prefetch("history", queryset=event_history())
        )[: size + 1]
    )
    more = len(rows) > size
    rows = rows[:size]
    groups: list[MonthGroup] = []
    for event in rows:
        key = month_key(event.date)
        if not groups or groups[-1].key != key:
            label = "No date" if key == UNDATED_KEY else f"{event.date:%B %Y}"
            groups.append(MonthGroup(key=key, label=label, continued=not groups and key == previous_key))
        groups[-1].events.append(event)
    timeline = TimelinePage(
        groups=groups, next_cursor=cursor_encode(rows[-1]) if more else None, count=len(rows), today=today
    )
    _place_today(timeline, shown_before=position is not None and position[0] >= today, cursor=position is not None)
    return timeline


def _place_today(page: TimelinePage, *, shown_before: bool, cursor: bool) -> None:
    """The "today" line between past and upcoming: before the first event dated today or later
    (undated events sort after every dated one, so it comes before "No date" too), once across
    the pages; at the end of the last page when every event is past. A first page of undated
    events only has no line: there is nothing dated to set it against."""
    events = [event for group in page.groups for event in group.events]
    if shown_before or not events or (not cursor and not any(event.date for event in events)):
        return
    today = page.today or timezone.localdate()
    for group in page.groups:
        for index, event in enumerate(group.events):
            if (event.date or _UNDATED) >= today:
                if index == 0 and group.key != f"{today:%Y-%m}" and not group.continued:
                    group.today_first = True  # today's month has no events: between the months
                else:
                    page.today_before = event.pk
                return
    page.today_at_end = page.next_cursor is None


def event_get(*, project: Project, code: Any) -> Event:
    """An event of this project that is not deleted, with what its row needs (a fixed 2 queries)."""
    events = (
        Event.objects.filter(project=project, deleted_at__isnull=True)
        .select_related("email", "edited_by", "superseded_by", "project")
        .prefetch_related(Prefetch("history", queryset=event_history()))
    )
    return get_object_or_404(events, code=code)


def event_get_any(*, project: Project, code: Any) -> Event:
    """Also a deleted one (for undo)."""
    return get_object_or_404(Event.objects.filter(project=project), code=code)


def email_get(code: Any) -> Email:
    """An email with its attachments, live events and processing log (a fixed 4 queries)."""
    emails = Email.objects.select_related("project").prefetch_related(
        "attachments",
        Prefetch(
            "events",
            queryset=Event.objects.filter(deleted_at__isnull=True).order_by(
                F("date").asc(nulls_last=True), "time", "pk"
            ),
        ),
        "logs",
    )
    return get_object_or_404(emails, code=code)


def email_confirmed_events(email: Email) -> list[Event]:
    """The live events of other emails that `email` confirmed (events.apply), each with the
    sentence of `email` that confirmed it (`confirmation`) and its source email for the link:
    one query, however many."""
    return list(
        Event.objects.filter(history__email=email, history__action="confirmed", deleted_at__isnull=True)
        .annotate(confirmation=F("history__note"))
        .select_related("email")
        .defer("email__text", "email__html", "email__headers")
        .order_by(F("date").asc(nulls_last=True), "time", "pk")
    )


def email_highlight(events: list[Event], confirmed: list[Event], code: str) -> tuple[Event | None, str]:
    """The event the email page highlights (`?highlight=<code>`) and the sentence of this email
    behind it: an event of the email and its evidence, or an earlier event it confirmed and the
    sentence that confirmed it."""
    for event in events:
        if str(event.code) == code:
            return event, event.evidence
    for event in confirmed:
        if str(event.code) == code:
            return event, str(getattr(event, "confirmation", ""))
    return None, ""


_SPACE = re.compile(r"\s+")


def evidence_split(text: str, evidence: str) -> tuple[str, str, str] | None:
    """Split `text` around the evidence sentence, tolerating different line wrapping and case.

    Returns (before, match, after) for the template to render with the match in <mark>; each
    part stays plain text and is escaped like any other.
    """
    words = _SPACE.split(evidence.strip())
    if not text or not words or words == [""]:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    found = re.search(pattern, text, flags=re.IGNORECASE)
    if found is None:
        return None
    return text[: found.start()], found.group(0), text[found.end() :]


# --- filing: Unfiled, suggestions, waiting events ---------------------------------------------

UNFILED_FIELDS = (
    "code", "subject", "from_address", "from_name", "date", "received_at", "state", "project_id",
    "filing", "filing_confidence", "filing_reason", "suggestions", "waiting",
)  # fmt: skip


@dataclass(frozen=True)
class Suggestion:
    """A ranked place to file an email: an existing open project, or (project None) a new one."""

    project: Project | None
    score: float
    name: str = ""
    client_name: str = ""
    client_email: str = ""

    @property
    def percent(self) -> int:
        return round(self.score * 100)


@dataclass(frozen=True)
class WaitingEvent:
    """One event of an unfiled email's extraction, kept on the email until it is filed."""

    kind: str
    kind_label: str
    title: str
    date: date | None
    time: time | None


@dataclass
class FilingRow:
    """An email as the filing controls show it: its ranked suggestions and its waiting events."""

    email: Email
    suggestions: list[Suggestion]
    events: list[WaitingEvent]

    @property
    def proposal(self) -> Suggestion | None:
        """The proposed new project, if the decision proposed one."""
        return next((s for s in self.suggestions if s.project is None), None)


def unfiled_emails() -> QuerySet[Email]:
    """The emails that wait for a person, newest first (the partial index email_unfiled)."""
    return Email.objects.filter(filing=FilingState.UNFILED).only(*UNFILED_FIELDS).order_by("-received_at", "-id")


def unfiled_count() -> int:
    """How many emails wait for a person: one COUNT on the partial index email_unfiled."""
    return Email.objects.filter(filing=FilingState.UNFILED).count()


def held_email_count() -> int:
    """How many emails are held (a plan limit, a project limit or a mail loop): the usage page and
    GET /usage show it beside the plan's limits."""
    return Email.objects.filter(state=EmailState.HELD).count()


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def waiting_events(email: Email) -> list[WaitingEvent]:
    """The events waiting on an unfiled email, in date order (undated last)."""
    labels = dict(EventKind.choices)
    events = [
        WaitingEvent(
            kind=str(item.get("kind", "")),
            kind_label=str(labels.get(item.get("kind", ""), item.get("kind", ""))),
            title=str(item.get("title", "")),
            date=_date(item.get("date")),
            time=_time(item.get("time")),
        )
        for item in (email.waiting or {}).get("events", [])
        if isinstance(item, dict)
    ]
    return sorted(events, key=lambda e: (e.date or _UNDATED, e.time or _NO_TIME))


def filing_rows(emails: list[Email]) -> list[FilingRow]:
    """Each email with its suggestions resolved: the suggested projects of every email in ONE
    query; a suggestion whose project was closed, merged or deleted since is left out."""
    ids = {s.get("project") for e in emails for s in e.suggestions or [] if isinstance(s, dict)} - {None}
    projects = (
        {p.pk: p for p in project_filing_choices().filter(pk__in=[i for i in ids if isinstance(i, int)])} if ids else {}
    )
    rows = []
    for email in emails:
        suggestions = []
        for item in email.suggestions or []:
            if not isinstance(item, dict):
                continue
            project_id = item.get("project")
            project = projects.get(project_id) if project_id is not None else None
            if project_id is not None and project is None:
                continue
            suggestions.append(
                Suggestion(
                    project=project,
                    score=float(item.get("score") or 0),
                    name=str(item.get("name") or ""),
                    client_name=str(item.get("client_name") or ""),
                    client_email=str(item.get("client_email") or ""),
                )
            )
        rows.append(FilingRow(email=email, suggestions=suggestions, events=waiting_events(email)))
    return rows


def email_filing_latest(email: Email | None = None, *, code: Any = None) -> EmailFiling | None:
    """The filing an Undo would take back: the email's latest one not undone (one query, by the
    email or by its code, with the projects and the person it names)."""
    filings = EmailFiling.objects.filter(undone=False).select_related("email", "from_project", "to_project", "actor")
    if email is not None:
        filings = filings.filter(email=email)
    elif code is not None:
        filings = filings.filter(email__code=code)
    else:
        return None
    return filings.defer("email__text", "email__html", "email__headers").order_by("-at", "-id").first()
