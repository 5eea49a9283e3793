"""Timeline exports: JSON, CSV and iCalendar, for a whole workspace or one project.

The JSON shape is a public contract:
{"organization", "projects": [{"id", "name", "status", "client_email"}],
 "emails": [{"message_id", "project_id", "status"}],
 "events": [{"id", "project_id", "kind", "date", "time", "title", "source_message_id",
             "evidence", "confidence", "status", "suggested"}]}
Every event ever extracted is listed, superseded and cancelled ones included; soft-deleted
ones are not. Ids are the database ids (stable within a workspace).

A suggestion (Event.suggested: extracted less surely than PROJECTR_EVENT_SUGGESTION_THRESHOLD,
not accepted yet) is in the JSON with `suggested: true`, and in neither the CSV nor the
iCalendar export until it is accepted.

The CSV is for people and spreadsheets, not a copy of the JSON: one row per
event with its project's name and client, labels rather than codes, the amount, the people, whether
it is done, and the source email's subject and an absolute link to its page (CSV_COLUMNS).

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
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.zones import zone_or_none
from events.models import Email, Event, EventKind, EventStatus, FilingState
from organizations.models import Organization
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
# The JSON's event keys: the columns above, and whether it is a suggestion nobody accepted yet.
EVENT_KEYS = (*EVENT_COLUMNS, "suggested")
CSV_COLUMNS = (
    "project",
    "client",
    "kind",
    "date",
    "time",
    "time_zone",
    "title",
    "amount",
    "currency",
    "people",
    "status",
    "done",
    "source_subject",
    "source_link",
)
# Cells a spreadsheet would evaluate as a formula (CSV injection); such text gets a leading '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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


def _email_link(organization: Organization) -> Callable[[Any], str]:
    """code → the email page's absolute URL on the workspace host (BASE_DOMAIN, PUBLIC_PORT), with
    the URL reversed once per export rather than once per row (a workspace has 100,000s)."""
    placeholder = "00000000-0000-0000-0000-000000000000"
    # The tenant URLconf: an export may run outside a request (the export_timeline command).
    path = reverse("events:email", urlconf=settings.ROOT_URLCONF, args=[placeholder])
    base = organization.absolute_url(path)
    return lambda code: base.replace(placeholder, str(code))


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _label(choices: type[EventKind] | type[EventStatus], value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _people(value: Any) -> str:
    if not isinstance(value, list):
        return ""
    return "; ".join(str(person).strip() for person in value if str(person).strip())


def _csv_events(project: Project | None) -> Iterable[Event]:
    events = (
        Event.objects.filter(deleted_at__isnull=True, suggested=False)
        .select_related("project", "email")
        .order_by("project__name", "project_id", "date", "time", "pk")
    )
    if project is not None:
        events = events.filter(project=project)
    return events.only(
        "project__name",
        "project__client_name",
        "project__client_email",
        "kind",
        "date",
        "time",
        "timezone",
        "title",
        "amount",
        "currency",
        "people",
        "status",
        "done",
        "email__code",
        "email__subject",
    ).iterator(chunk_size=2000)


def _waiting_csv_rows(link: Callable[[Any], str], reader: tzinfo | None) -> Iterable[dict[str, Any]]:
    """The events Unfiled emails wait with (no project yet), as the JSON lists them; suggestions out."""
    emails = (
        Email.objects.filter(filing=FilingState.UNFILED, project__isnull=True)
        .only("pk", "code", "subject", "waiting")
        .order_by("received_at", "pk")
    )
    for email in emails.iterator(chunk_size=500):
        items = email.waiting.get("events") if isinstance(email.waiting, dict) else None
        for item in items or []:
            if not isinstance(item, dict) or _below_threshold(item.get("confidence", 0.5)):
                continue
            yield {
                "project": "",
                "client": "",
                "kind": _label(EventKind, item.get("kind")),
                **_waiting_when(item, reader),
                "title": item.get("title", ""),
                "amount": item.get("amount") or "",
                "currency": item.get("currency") or "",
                "people": _people(item.get("people")),
                "status": EventStatus.ACTIVE.label,
                "done": "no",
                "source_subject": email.subject,
                "source_link": link(email.code),
            }


def csv_when(day: date | None, at: time | None, zone_name: str, reader: tzinfo | None) -> dict[str, str]:
    """The date, time and time_zone cells of an event. An event keeps the wall time its email gave
    in the sender's zone (Event.timezone); a person's download gives it in their own zone instead
    (`reader`, the zone their pages use), so the spreadsheet reads like the pages do, and
    time_zone says which zone that is. All-day events keep their date, and a time whose zone the
    email never said stays as written with time_zone empty: there is nothing to convert it from.
    Without a reader (the export_timeline command) times stay in their own zone, named."""
    if day is None:
        return {"date": "", "time": at.strftime("%H:%M") if at else "", "time_zone": ""}
    zone = zone_or_none(zone_name) if at is not None else None
    if at is None or zone is None:
        return {"date": day.isoformat(), "time": at.strftime("%H:%M") if at else "", "time_zone": ""}
    moment = datetime.combine(day, at, tzinfo=zone)
    if reader is not None:
        moment = moment.astimezone(reader)
    return {"date": moment.date().isoformat(), "time": moment.strftime("%H:%M"), "time_zone": str(moment.tzinfo)}


def _waiting_when(item: dict[str, Any], reader: tzinfo | None) -> dict[str, str]:
    try:
        day = date.fromisoformat(str(item.get("date") or "")) if item.get("date") else None
        at = time.fromisoformat(str(item.get("time") or "")) if item.get("time") else None
    except ValueError:
        return {"date": str(item.get("date") or ""), "time": str(item.get("time") or "")[:5], "time_zone": ""}
    return csv_when(day, at, str(item.get("timezone") or ""), reader)


def export_csv(*, organization: Organization, project: Project | None = None, reader: tzinfo | None = None) -> str:
    """CSV_COLUMNS, one row per event that is not a suggestion (cancelled and superseded ones
    included, as in the JSON; deleted ones not), by project name then date, then (for the workspace)
    the events Unfiled emails wait with. Two queries."""
    link = _email_link(organization)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    rows = (
        {
            "project": event.project.name,
            "client": event.project.client_name or event.project.client_email,
            "kind": event.get_kind_display(),
            **csv_when(event.date, event.time, event.timezone, reader),
            "title": event.title,
            "amount": event.amount,
            "currency": event.currency,
            "people": _people(event.people),
            "status": event.get_status_display(),
            "done": "yes" if event.done else "no",
            "source_subject": event.email.subject if event.email else "",
            "source_link": link(event.email.code) if event.email else "",
        }
        for event in _csv_events(project)
    )
    for row in itertools.chain(rows, [] if project is not None else _waiting_csv_rows(link, reader)):
        writer.writerow({key: _csv_cell(value) for key, value in row.items()})
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
