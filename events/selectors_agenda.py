"""The agenda: what is overdue, due today, this week and next week across the open projects.

Two queries whatever the workspace's size: the overdue items (the most recent AGENDA_OVERDUE_LIMIT,
newest first in SQL, shown oldest first) and the window from today to the end of next week
(at most AGENDA_WINDOW_LIMIT). Weeks run Monday to Sunday; "today" is the workspace's date
(`timezone.localdate()`, as the timeline's "upcoming" and the projects list's "Next" read it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from events.models import Event, EventKind, EventStatus, FilingState
from projects.selectors import open_projects

if TYPE_CHECKING:
    from accounts.models import User

# What can be late: a meeting, a decision or a status change in the past is just the past.
OVERDUE_KINDS = (EventKind.DEADLINE, EventKind.MILESTONE, EventKind.ACTION_ITEM, EventKind.PAYMENT)
AGENDA_OVERDUE_LIMIT = 100
AGENDA_WINDOW_LIMIT = 300


@dataclass(frozen=True)
class AgendaFilter:
    project: uuid.UUID | None = None  # a project's code
    kind: str = ""
    mine: bool = False

    @property
    def active(self) -> bool:
        return bool(self.project or self.kind or self.mine)


@dataclass
class AgendaDay:
    day: date
    events: list[Event] = field(default_factory=list)


@dataclass
class AgendaSection:
    key: str  # overdue | today | this_week | next_week
    label: str
    days: list[AgendaDay] = field(default_factory=list)
    truncated: bool = False  # more items than the section shows

    @property
    def count(self) -> int:
        return sum(len(d.events) for d in self.days)


@dataclass
class Agenda:
    today: date
    sections: list[AgendaSection]

    @property
    def count(self) -> int:
        return sum(s.count for s in self.sections)


def week_bounds(today: date) -> tuple[date, date, date]:
    """The last day of this week (Sunday), and the first and last days of next week."""
    this_week_end = today + timedelta(days=6 - today.weekday())
    return this_week_end, this_week_end + timedelta(days=1), this_week_end + timedelta(days=7)


def mine_q(user: User) -> Q:
    """An event is the user's when its people name them (their email address, or their full
    name as their account has it, case-insensitively inside the event's people list), or when
    it came from mail sent from their address."""
    q = Q(email__from_address__iexact=user.email) | Q(people__icontains=user.email)
    name = user.get_full_name().strip()
    if name:
        q |= Q(people__icontains=name)
    return q


def agenda_events(*, filters: AgendaFilter, user: User | None = None) -> QuerySet[Event]:
    """Live, dated events of open projects: not deleted, not a suggestion nobody accepted yet
    (Event.suggested), not cancelled or superseded, never the events of mail back in Unfiled;
    with the project and the email the row links to (without the email's bodies)."""
    events = Event.objects.filter(
        deleted_at__isnull=True,
        suggested=False,
        status=EventStatus.ACTIVE,
        date__isnull=False,
        project__in=open_projects(),
    ).filter(Q(email__isnull=True) | ~Q(email__filing=FilingState.UNFILED))
    if filters.project:
        events = events.filter(project__code=filters.project)
    if filters.kind in EventKind.values:
        events = events.filter(kind=filters.kind)
    if filters.mine and user is not None:
        events = events.filter(mine_q(user))
    return events.select_related("project", "email").only(
        *(f.name for f in Event._meta.concrete_fields if f.name not in ("description", "evidence")),
        "project__code",
        "project__name",
        "email__code",
        "email__subject",
        "email__from_address",
    )


def _by_day(events: list[Event]) -> list[AgendaDay]:
    days: list[AgendaDay] = []
    for event in events:
        if not days or days[-1].day != event.date:
            days.append(AgendaDay(day=event.date))  # type: ignore[arg-type]  # dated: agenda_events
        days[-1].events.append(event)
    return days


def agenda(*, filters: AgendaFilter, user: User | None = None, today: date | None = None) -> Agenda:
    """The agenda's four sections, each grouped by day (untimed items first on their day)."""
    today = today or timezone.localdate()
    this_week_end, _, next_week_end = week_bounds(today)
    events = agenda_events(filters=filters, user=user)
    overdue = list(
        events.filter(date__lt=today, done=False, kind__in=OVERDUE_KINDS).order_by("-date", "-time", "-id")[
            : AGENDA_OVERDUE_LIMIT + 1
        ]
    )
    window = list(
        events.filter(date__gte=today, date__lte=next_week_end).order_by("date", "time", "id")[
            : AGENDA_WINDOW_LIMIT + 1
        ]
    )
    shown_overdue = overdue[:AGENDA_OVERDUE_LIMIT]
    shown_overdue.sort(key=lambda e: (e.date, e.time is not None, e.time, e.pk))
    shown_window = window[:AGENDA_WINDOW_LIMIT]
    # Untimed first on their day, as on the timeline (PostgreSQL sorts NULL times last).
    shown_window.sort(key=lambda e: (e.date, e.time is not None, e.time, e.pk))
    window_full = len(window) > AGENDA_WINDOW_LIMIT

    def section(key: str, label: str, start: date, end: date) -> AgendaSection:
        rows = [e for e in shown_window if start <= e.date <= end]  # type: ignore[operator]
        truncated = window_full and bool(rows) and rows[-1] is shown_window[-1]
        return AgendaSection(key=key, label=label, days=_by_day(rows), truncated=truncated)

    return Agenda(
        today=today,
        sections=[
            AgendaSection(
                key="overdue",
                label="Overdue",
                days=_by_day(shown_overdue),
                truncated=len(overdue) > AGENDA_OVERDUE_LIMIT,
            ),
            section("today", "Today", today, today),
            section("this_week", "This week", today + timedelta(days=1), this_week_end),
            section("next_week", "Next week", this_week_end + timedelta(days=1), next_week_end),
        ],
    )
