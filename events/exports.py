"""Timeline exports: JSON, CSV and iCalendar, for a whole workspace or one project.

The JSON shape is a public contract (issue 4 point 6):
{"organization", "projects": [{"id", "name", "status", "client_email"}],
 "emails": [{"message_id", "project_id", "status"}],
 "events": [{"id", "project_id", "kind", "date", "time", "title", "source_message_id",
             "evidence", "confidence", "status", "suggested"}]}
Every event ever extracted is listed, superseded and cancelled ones included; soft-deleted
ones are not. Ids are the database ids (stable within a workspace).

A suggestion (Event.suggested: extracted less surely than PROJECTR_EVENT_SUGGESTION_THRESHOLD,
not accepted yet) is in the JSON with `suggested: true`, and in neither the CSV (whose columns
are the JSON's without `suggested`) nor the iCalendar export until it is accepted.

An Unfiled email (events.models.FilingState) is in no project: `project_id: null`. The events
its extraction found wait on the email, not on any timeline; the workspace export lists them
after the stored events with `project_id: null`, `id: null` (they are not stored events yet) and
status "active", and with exactly the keys of every other event: the shape stays the contract.
Their `suggested` says whether they would be suggestions once filed (below the threshold).
A project's export has none of them, and neither has the iCalendar export: they are on no
calendar until the email is filed.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from django.conf import settings
from django.utils import timezone

from events.models import Email, Event, EventStatus, FilingState
from projects.models import Project

EVENT_COLUMNS = (
    "id",
    "project_id",
    "kind",
    "date",
    "time",
    "title",
    "source_message_id",
    "evidence",
    "confidence",
    "status",
)
# The JSON's event keys: the CSV's columns, and whether it is a suggestion nobody accepted yet.
EVENT_KEYS = (*EVENT_COLUMNS, "suggested")
PRODID = "-//Projectr//Project timelines//EN"


def _events(project: Project | None, *, suggestions: bool = True) -> Iterable[Event]:
    events = (
        Event.objects.filter(deleted_at__isnull=True)
        .select_related("email")
        .order_by("project_id", "date", "time", "pk")
    )
    if project is not None:
        events = events.filter(project=project)
    if not suggestions:
        events = events.filter(suggested=False)
    return events.only(
        "pk",
        "project_id",
        "kind",
        "date",
        "time",
        "title",
        "evidence",
        "confidence",
        "status",
        "suggested",
        "email__message_id",
    ).iterator(chunk_size=2000)


def event_row(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "project_id": event.project_id,
        "kind": event.kind,
        "date": event.date.isoformat() if event.date else None,
        "time": event.time.strftime("%H:%M") if event.time else None,
        "title": event.title,
        "source_message_id": event.email.message_id if event.email else None,
        "evidence": event.evidence,
        "confidence": event.confidence,
        "status": event.status,
        "suggested": event.suggested,
    }


def waiting_rows() -> Iterable[dict[str, Any]]:
    """The events that Unfiled emails wait with, as export rows (no id, no project), in the
    emails' arrival order. One query."""
    emails = (
        Email.objects.filter(filing=FilingState.UNFILED, project__isnull=True)
        .only("pk", "message_id", "waiting")
        .order_by("received_at", "pk")
    )
    for email in emails.iterator(chunk_size=500):
        items = email.waiting.get("events") if isinstance(email.waiting, dict) else None
        for item in items or []:
            if not isinstance(item, dict):
                continue
            at = str(item.get("time") or "")
            confidence = item.get("confidence", 0.5)
            yield {
                "id": None,
                "project_id": None,
                "kind": item.get("kind", ""),
                "date": item.get("date") or None,
                "time": at[:5] or None,  # stored as HH:MM[:SS]; exported as HH:MM like the others
                "title": item.get("title", ""),
                "source_message_id": email.message_id,
                "evidence": item.get("evidence", ""),
                "confidence": confidence,
                "status": EventStatus.ACTIVE.value,
                "suggested": _below_threshold(confidence),
            }


def _below_threshold(confidence: Any) -> bool:
    """Whether a waiting event would be stored as a suggestion when its email is filed (events.apply)."""
    try:
        return float(confidence) < settings.PROJECTR_EVENT_SUGGESTION_THRESHOLD
    except (TypeError, ValueError):
        return False


def export_data(*, organization_slug: str, project: Project | None = None) -> dict[str, Any]:
    """The whole export as plain data (five queries; four for one project)."""
    projects = Project.objects.filter(merged_into__isnull=True).order_by("pk")
    emails = Email.objects.order_by("received_at", "pk")
    if project is not None:
        projects = projects.filter(pk=project.pk)
        emails = emails.filter(project=project)
    return {
        "organization": organization_slug,
        "projects": [
            {"id": p.pk, "name": p.name, "status": p.status, "client_email": p.client_email}
            for p in projects.only("pk", "name", "status", "client_email")
        ],
        "emails": [
            {"message_id": e.message_id, "project_id": e.project_id, "status": e.state}
            for e in emails.only("message_id", "project_id", "state").iterator(chunk_size=2000)
        ],
        "events": [event_row(event) for event in _events(project)]
        + ([] if project is not None else list(waiting_rows())),
    }


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def export_csv(*, project: Project | None = None) -> str:
    """The event columns of the JSON export (less `suggested`), one row per event (and per waiting
    event, as there), suggestions left out."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EVENT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    rows = map(event_row, _events(project, suggestions=False))
    for row in itertools.chain(rows, [] if project is not None else waiting_rows()):
        if row["suggested"]:
            continue
        # Spreadsheet formula injection: a cell starting with = + - @ would be evaluated.
        for key in ("title", "evidence"):
            if str(row[key]).startswith(("=", "+", "-", "@")):
                row[key] = "'" + row[key]
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def _start(event: Event) -> Any:
    """A date for all-day events; a datetime (zoned when the zone is known, else floating) otherwise."""
    assert event.date is not None
    if event.time is None:
        return event.date
    start = datetime.combine(event.date, event.time)
    if event.timezone:
        try:
            return start.replace(tzinfo=ZoneInfo(event.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return start


def export_ics(
    *,
    calendar_name: str,
    project: Project | None = None,
    link: Callable[[Event], str] | None = None,
) -> bytes:
    """One VEVENT per active dated event that is not a suggestion: what a calendar subscription
    shows. An Unfiled email's waiting events are not events yet (they are on no timeline), so
    never in a calendar."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", calendar_name)
    # Calendar apps poll feeds; this asks for roughly hourly refreshes.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    events = (
        Event.objects.filter(deleted_at__isnull=True, status=EventStatus.ACTIVE, suggested=False, date__isnull=False)
        .select_related("project")
        .order_by("date", "time", "pk")
    )
    if project is not None:
        events = events.filter(project=project)
    stamp = timezone.now()
    for event in events.iterator(chunk_size=2000):
        vevent = icalendar.Event()
        vevent.add("uid", f"{event.code}@projectr")
        vevent.add("dtstamp", stamp)
        vevent.add("last-modified", event.updated_at)
        start = _start(event)
        vevent.add("dtstart", start)
        if isinstance(start, datetime):
            vevent.add("dtend", start + timedelta(hours=1))
        else:
            vevent.add("dtend", start + timedelta(days=1))
        vevent.add("summary", f"{event.title} ({event.project.name})" if project is None else event.title)
        description = [event.get_kind_display()]
        if event.evidence:
            description.append(f"“{event.evidence}”")
        if link is not None:
            description.append(link(event))
            vevent.add("url", link(event))
        vevent.add("description", "\n".join(description))
        vevent.add("categories", [event.get_kind_display()])
        cal.add_component(vevent)
    return cal.to_ical()
