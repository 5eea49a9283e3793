"""Exports: the exact JSON contract, a CSV for people (project, client, amount, people, done, the
source email and its link), ICS with active dated events."""

import csv
import datetime as dt
import io
import json

import icalendar
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from events.exports import CSV_COLUMNS, EVENT_COLUMNS, EVENT_KEYS, export_csv, export_data, export_ics
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


def _csv(org, **kw):
    return list(csv.DictReader(io.StringIO(export_csv(organization=org, **kw))))


def test_the_csv_has_a_row_per_event_with_its_project_amount_people_and_source(timeline, org, settings):
    settings.BASE_DOMAIN, settings.PUBLIC_PORT = "projectr.test", "8443"
    project, email, *_ = timeline
    project.client_name = "Harbour Homes"
    project.save(update_fields=["client_name"])
    EventFactory(
        project=project, email=email, kind=EventKind.PAYMENT, title="Deposit", date=dt.date(2026, 12, 9),
        amount="1250.50", currency="EUR", people=["Ana Ruiz", "Tom"], done=True,
    )  # fmt: skip
    rows = _csv(org)
    assert tuple(rows[0]) == CSV_COLUMNS
    by_title = {r["title"]: r for r in rows}
    link = org.absolute_url(f"/inbox/{email.code}/")
    assert link.startswith("http") and ".projectr.test:8443/inbox/" in link
    assert by_title["Deposit"] == {
        "project": "Kitchen refit",
        "client": "Harbour Homes",
        "kind": "Payment",
        "date": "2026-12-09",
        "time": "",
        "time_zone": "",
        "title": "Deposit",
        "amount": "1250.50",
        "currency": "EUR",
        "people": "Ana Ruiz; Tom",
        "status": "Active",
        "done": "yes",
        "source_subject": email.subject,
        "source_link": link,
    }
    assert (by_title["Site meeting"]["time"], by_title["Site meeting"]["done"]) == ("10:00", "no")
    assert by_title["Site meeting (old)"]["status"] == "Superseded"
    # An event added by hand has no source email; not the deleted one.
    assert by_title["'=cmd|' /C calc'!A0"]["source_link"] == ""
    assert "Deleted one" not in by_title


def test_the_csv_names_the_client_by_address_when_it_has_no_name(timeline, org):
    project, *_ = timeline
    project.client_name = ""
    project.save(update_fields=["client_name"])
    assert {r["client"] for r in _csv(org)} == {"pm@client.example"}


def test_the_csv_defuses_formulas_in_every_text_cell(org):
    project = ProjectFactory(name="=1+1", client_name="@SUM(A1)")
    email = EmailFactory(project=project, subject="-2+3")
    EventFactory(project=project, email=email, title="+cmd", people=["=HYPERLINK(x)"])
    (row,) = _csv(org)
    assert (row["project"], row["client"], row["title"], row["people"], row["source_subject"]) == (
        "'=1+1", "'@SUM(A1)", "'+cmd", "'=HYPERLINK(x)", "'-2+3",
    )  # fmt: skip


def test_the_csv_costs_two_queries_however_many_events(org, django_assert_num_queries):
    EventFactory.create_batch(30, project=ProjectFactory())
    with django_assert_num_queries(2):  # the events with their projects and emails; the Unfiled mail
        assert len(_csv(org)) == 30


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
    assert out.getvalue().startswith(",".join(CSV_COLUMNS))
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


def test_the_csv_lists_waiting_events_without_a_project(unfiled, timeline, org):
    project, *_ = timeline
    rows = _csv(org)
    waiting = [r for r in rows if r["source_link"].endswith(f"/inbox/{unfiled.code}/")]
    assert [(r["project"], r["kind"], r["title"], r["time"], r["people"]) for r in waiting] == [
        ("", "Meeting", "Kick-off call", "10:00", "Mia"),
        ("", "Action item", "'=HYPERLINK(1)", "", ""),
    ]
    assert len(rows) == 5
    assert not [r for r in export_csv(organization=org, project=project).splitlines() if str(unfiled.code) in r]


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


def test_the_csv_and_the_ics_leave_a_suggestion_out_until_it_is_accepted(suggestion, world, org):
    from events.services import event_suggestion_accept

    def csv_titles(**kw):
        return [r["title"] for r in _csv(org, **kw)]

    def ics_titles(**kw):
        return [
            str(e["summary"]) for e in icalendar.Calendar.from_ical(export_ics(calendar_name="x", **kw)).walk("VEVENT")
        ]

    assert "Maybe a site walk" not in csv_titles()
    assert "Maybe a site walk" not in csv_titles(project=suggestion.project)
    assert "suggested" not in CSV_COLUMNS
    assert ics_titles(project=suggestion.project) == ["Site meeting"]

    event_suggestion_accept(event=suggestion, actor=world.member)

    assert "Maybe a site walk" in csv_titles()
    assert ics_titles(project=suggestion.project) == ["Site meeting", "Maybe a site walk"]


def test_a_waiting_event_below_the_threshold_is_flagged_and_left_out_of_the_csv(unfiled, settings, org):
    settings.PROJECTR_EVENT_SUGGESTION_THRESHOLD = 0.6  # the waiting action item (0.5) would be a suggestion
    waiting = [e for e in export_data(organization_slug="testorg")["events"] if e["project_id"] is None]
    assert [(e["title"], e["suggested"]) for e in waiting] == [("Kick-off call", False), ("=HYPERLINK(1)", True)]
    rows = [r for r in _csv(org) if r["source_link"].endswith(f"/inbox/{unfiled.code}/")]
    assert [r["title"] for r in rows] == ["Kick-off call"]
