"""Exports: the exact JSON contract, CSV with the same event columns, ICS with active dated events."""

import csv
import datetime as dt
import io
import json

import icalendar
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from events.exports import EVENT_COLUMNS, export_csv, export_data, export_ics
from events.models import EmailState, EventKind, EventStatus
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
    }
    assert by_title["Site meeting (old)"]["status"] == "superseded"
    assert by_title["=cmd|' /C calc'!A0"]["date"] is None
    assert by_title["=cmd|' /C calc'!A0"]["source_message_id"] is None
    assert list(by_title["Site meeting"]) == list(EVENT_COLUMNS)


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
