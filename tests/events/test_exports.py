"""Exports: the exact JSON contract, CSV with the same event columns, ICS with active dated events."""

import csv
import datetime as dt
import io
import json

import icalendar
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from events.exports import EVENT_COLUMNS, EVENT_KEYS, export_csv, export_data, export_ics
from events.models import EmailState, EventKind, EventStatus, FilingState
from tests.factories import EmailFactory, EventFactory, ProjectFactory


@pytest.fixture
def timeline(org):
    project = ProjectFactory(name="Kitchen refit", client_email="pm@client.example")
    email = EmailFactory(project=project, message_id="<a1@client.example>", state=EmailState.PROCESSED)
    EmailFactory(project=None, message_id="<lost@client.example>", state=EmailState.FAILED)
    newer = EventFactory(
        project=project,
        email=email,
        kind=EventKind.MEETING,
        title="Site meeting",
        date=dt.date(2026, 12, 4),
        time=dt.time(10, 0),
        timezone="Europe/London",
        evidence="Site meeting moved to Friday 10am.",
        confidence=0.8,
    )
    old = EventFactory(
        project=project,
        email=email,
        title="Site meeting (old)",
        date=dt.date(2026, 12, 2),
        status=EventStatus.SUPERSEDED,
        superseded_by=newer,
    )
    undated = EventFactory(project=project, email=None, kind=EventKind.DECISION, title="=cmd|' /C calc'!A0", date=None)
    deleted = EventFactory(project=project, title="Deleted one", deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return project, email, newer, old, undated, deleted


def test_the_json_has_exactly_the_specified_shape(timeline):
    project, _, newer, *_ = timeline
    data = export_data(organization_slug="testorg")
    assert list(data) == ["organization", "projects", "emails", "events"]
    assert data["organization"] == "testorg"
    assert data["projects"] == [
        {"id": project.pk, "name": "Kitchen refit", "status": "active", "client_email": "pm@client.example"}
    ]
    assert {"message_id": "<lost@client.example>", "project_id": None, "status": "failed"} in data["emails"]
    assert {"message_id": "<a1@client.example>", "project_id": project.pk, "status": "processed"} in data["emails"]
    by_title = {e["title"]: e for e in data["events"]}
    assert set(by_title) == {"Site meeting", "Site meeting (old)", "=cmd|' /C calc'!A0"}  # not the deleted one
    assert by_title["Site meeting"] == {
        "id": newer.pk,
        "project_id": project.pk,
        "kind": "meeting",
        "date": "2026-12-04",
        "time": "10:00",
        "title": "Site meeting",
        "source_message_id": "<a1@client.example>",
        "evidence": "Site meeting moved to Friday 10am.",
        "confidence": 0.8,
        "status": "active",
        "suggested": False,
    }
    assert by_title["Site meeting (old)"]["status"] == "superseded"
    assert by_title["=cmd|' /C calc'!A0"]["date"] is None
    assert by_title["=cmd|' /C calc'!A0"]["source_message_id"] is None
    assert list(by_title["Site meeting"]) == list(EVENT_KEYS)
    assert (*EVENT_COLUMNS, "suggested") == EVENT_KEYS


def test_a_project_export_holds_only_that_project(timeline):
    project, *_ = timeline
    other = ProjectFactory()
    EventFactory(project=other)
    data = export_data(organization_slug="testorg", project=project)
    assert [p["id"] for p in data["projects"]] == [project.pk]
    assert {e["project_id"] for e in data["events"]} == {project.pk}
    assert [e["message_id"] for e in data["emails"]] == ["<a1@client.example>"]


def test_the_csv_has_the_event_columns_and_defuses_formulas(timeline):
    rows = list(csv.DictReader(io.StringIO(export_csv())))
    assert tuple(rows[0]) == EVENT_COLUMNS
    assert len(rows) == 3
    titles = {r["title"] for r in rows}
    assert "'=cmd|' /C calc'!A0" in titles


def test_the_ics_has_one_vevent_per_active_dated_event(timeline):
    _, _, newer, *_ = timeline
    cal = icalendar.Calendar.from_ical(export_ics(calendar_name="Test Org"))
    events = cal.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["uid"]) == f"{newer.code}@projectr"
    start = event.decoded("dtstart")
    assert start == dt.datetime(2026, 12, 4, 10, 0, tzinfo=start.tzinfo)
    assert str(start.tzinfo) == "Europe/London"
    assert "Site meeting" in str(event["summary"])


def test_an_all_day_event_is_a_date_in_ics(org):
    EventFactory(title="Handover", date=dt.date(2026, 12, 10), time=None)
    event = icalendar.Calendar.from_ical(export_ics(calendar_name="x")).walk("VEVENT")[0]
    assert event.decoded("dtstart") == dt.date(2026, 12, 10)
    assert event.decoded("dtend") == dt.date(2026, 12, 11)


def test_the_command_writes_json_csv_and_ics_to_stdout(timeline, org):
    out = io.StringIO()
    call_command("export_timeline", "--org", "testorg", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["organization"] == "testorg"
    assert len(data["events"]) == 3
    out = io.StringIO()
    call_command("export_timeline", "--org", "testorg", "--format", "csv", stdout=out)
    assert out.getvalue().startswith(",".join(EVENT_COLUMNS))
    out = io.StringIO()
    call_command("export_timeline", "--org", "testorg", "--format", "ics", stdout=out)
    assert out.getvalue().count("BEGIN:VEVENT") == 1
    assert connection.schema_name == org.schema_name  # the command restores the schema it found


def test_the_command_refuses_an_unknown_organization(org):
    with pytest.raises(CommandError, match="No organization"):
        call_command("export_timeline", "--org", "nope", stdout=io.StringIO())


WAITING = {
    "provider": "rules",
    "model": "rules",
    "summary": "Kick-off for the newsletter migration.",
    "events": [
        {
            "kind": "meeting",
            "title": "Kick-off call",
            "date": "2026-12-07",
            "time": "10:00:00",
            "timezone": "Europe/London",
            "people": ["Mia"],
            "amount": None,
            "currency": "",
            "evidence": "Kick-off call on Monday at 10:00.",
            "confidence": 0.8,
            "updates_event_id": None,
            "update_action": "",
        },
        {
            "kind": "action_item",
            "title": "=HYPERLINK(1)",
            "date": None,
            "time": None,
            "timezone": "",
            "people": [],
            "amount": None,
            "currency": "",
            "evidence": "Send the list export.",
            "confidence": 0.5,
            "updates_event_id": None,
            "update_action": "",
        },
    ],
}


@pytest.fixture
def unfiled(timeline):
    """An email that waits in Unfiled with its events, and one a person filed since (whose kept
    `waiting` must not be listed again: its events are on the timeline now)."""
    project, *_ = timeline
    email = EmailFactory(
        project=None,
        message_id="<wait@crumb.example>",
        filing=FilingState.UNFILED,
        filing_confidence=0.4,
        waiting=WAITING,
    )
    EmailFactory(project=project, message_id="<filed@crumb.example>", filing=FilingState.HAND, waiting=WAITING)
    return email


def test_an_unfiled_email_and_its_waiting_events_have_no_project_in_the_same_shape(unfiled):
    data = export_data(organization_slug="testorg")
    assert list(data) == ["organization", "projects", "emails", "events"]
    assert {"message_id": "<wait@crumb.example>", "project_id": None, "status": "processed"} in data["emails"]
    waiting = [e for e in data["events"] if e["source_message_id"] == "<wait@crumb.example>"]
    assert waiting == [
        {
            "id": None,
            "project_id": None,
            "kind": "meeting",
            "date": "2026-12-07",
            "time": "10:00",
            "title": "Kick-off call",
            "source_message_id": "<wait@crumb.example>",
            "evidence": "Kick-off call on Monday at 10:00.",
            "confidence": 0.8,
            "status": "active",
            "suggested": False,
        },
        {
            "id": None,
            "project_id": None,
            "kind": "action_item",
            "date": None,
            "time": None,
            "title": "=HYPERLINK(1)",
            "source_message_id": "<wait@crumb.example>",
            "evidence": "Send the list export.",
            "confidence": 0.5,
            "status": "active",
            "suggested": False,  # 0.5 is not below the default threshold
        },
    ]
    # Every event, filed or waiting, has exactly the contract's keys; only waiting ones lack a project.
    assert all(list(e) == list(EVENT_KEYS) for e in data["events"])
    assert [e["title"] for e in data["events"] if e["project_id"] is None] == ["Kick-off call", "=HYPERLINK(1)"]
    assert not [e for e in data["events"] if e["source_message_id"] == "<filed@crumb.example>"]


def test_a_project_export_has_no_waiting_events(unfiled, timeline):
    project, *_ = timeline
    data = export_data(organization_slug="testorg", project=project)
    assert {e["project_id"] for e in data["events"]} == {project.pk}
    assert "<wait@crumb.example>" not in [e["message_id"] for e in data["emails"]]


def test_the_csv_lists_waiting_events_without_id_or_project(unfiled, timeline):
    project, *_ = timeline
    rows = list(csv.DictReader(io.StringIO(export_csv())))
    waiting = [r for r in rows if r["source_message_id"] == "<wait@crumb.example>"]
    assert [(r["id"], r["project_id"], r["title"], r["time"]) for r in waiting] == [
        ("", "", "Kick-off call", "10:00"),
        ("", "", "'=HYPERLINK(1)", ""),
    ]
    assert len(rows) == 5
    assert not [r for r in export_csv(project=project).splitlines() if "wait@crumb.example" in r]


def test_waiting_events_are_on_no_calendar(unfiled):
    cal = icalendar.Calendar.from_ical(export_ics(calendar_name="Test Org"))
    assert [str(e["summary"]) for e in cal.walk("VEVENT")] == ["Site meeting (Kitchen refit)"]


def test_the_command_exports_an_unfiled_email_with_project_id_null(unfiled):
    out = io.StringIO()
    call_command("export_timeline", "--org", "testorg", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert {"message_id": "<wait@crumb.example>", "project_id": None, "status": "processed"} in data["emails"]
    assert len(data["events"]) == 5
    assert sum(e["project_id"] is None for e in data["events"]) == 2
    out = io.StringIO()
    call_command("export_timeline", "--org", "testorg", "--format", "ics", stdout=out)
    assert out.getvalue().count("BEGIN:VEVENT") == 1


# --- suggestions (Event.suggested): in the JSON, flagged; in neither the CSV nor the calendar ---


@pytest.fixture
def suggestion(timeline):
    project, email, *_ = timeline
    return EventFactory(
        project=project,
        email=email,
        title="Maybe a site walk",
        date=dt.date(2026, 12, 8),
        confidence=0.45,
        suggested=True,
    )


def test_the_json_lists_a_suggestion_flagged_as_one(suggestion):
    by_title = {e["title"]: e for e in export_data(organization_slug="testorg")["events"]}
    assert by_title["Maybe a site walk"]["suggested"] is True
    assert by_title["Site meeting"]["suggested"] is False
    project_events = export_data(organization_slug="testorg", project=suggestion.project)["events"]
    assert [e["suggested"] for e in project_events if e["id"] == suggestion.pk] == [True]


def test_the_csv_and_the_ics_leave_a_suggestion_out_until_it_is_accepted(suggestion, world):
    from events.services import event_suggestion_accept

    def csv_titles(**kw):
        return [r["title"] for r in csv.DictReader(io.StringIO(export_csv(**kw)))]

    def ics_titles(**kw):
        return [
            str(e["summary"]) for e in icalendar.Calendar.from_ical(export_ics(calendar_name="x", **kw)).walk("VEVENT")
        ]

    assert "Maybe a site walk" not in csv_titles()
    assert "Maybe a site walk" not in csv_titles(project=suggestion.project)
    assert tuple(csv.DictReader(io.StringIO(export_csv())).fieldnames or ()) == EVENT_COLUMNS  # no `suggested` column
    assert ics_titles(project=suggestion.project) == ["Site meeting"]

    event_suggestion_accept(event=suggestion, actor=world.member)

    assert "Maybe a site walk" in csv_titles()
    assert ics_titles(project=suggestion.project) == ["Site meeting", "Maybe a site walk"]


def test_a_waiting_event_below_the_threshold_is_flagged_and_left_out_of_the_csv(unfiled, settings):
    settings.PROJECTR_EVENT_SUGGESTION_THRESHOLD = 0.6  # the waiting action item (0.5) would be a suggestion
    waiting = [e for e in export_data(organization_slug="testorg")["events"] if e["project_id"] is None]
    assert [(e["title"], e["suggested"]) for e in waiting] == [("Kick-off call", False), ("=HYPERLINK(1)", True)]
    rows = [r for r in csv.DictReader(io.StringIO(export_csv())) if r["source_message_id"] == "<wait@crumb.example>"]
    assert [r["title"] for r in rows] == ["Kick-off call"]
