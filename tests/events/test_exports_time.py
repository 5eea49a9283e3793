"""Times in the exports: a CSV a person downloads gives times in their own zone
and names it; all-day dates never move; a time whose zone the email never said stays as written;
the export_timeline command and the calendar feeds keep each event's own zone."""

from __future__ import annotations

import csv
import datetime as dt
import io

import icalendar
import pytest
from django.core.management import call_command
from django.urls import reverse

from events.exports import export_ics
from events.models import EventKind
from tests.factories import EventFactory, ProjectFactory


@pytest.fixture
def plans(org):
    project = ProjectFactory(name="Harbour office")
    EventFactory(
        project=project, title="Oslo call", date=dt.date(2026, 12, 7), time=dt.time(15, 0), timezone="Europe/Oslo"
    )
    EventFactory(
        project=project, title="Late call", date=dt.date(2026, 12, 7), time=dt.time(20, 0), timezone="America/New_York"
    )
    EventFactory(project=project, title="Handover", kind=EventKind.MILESTONE, date=dt.date(2026, 12, 8))
    EventFactory(project=project, title="Walkthrough", date=dt.date(2026, 12, 9), time=dt.time(9, 30))
    return project


def downloaded(client, project=None):
    url = (
        reverse("projects:project_export", args=[project.code, "csv"])
        if project
        else reverse("projects:export", args=["csv"])
    )
    response = client.get(url)
    assert response.status_code == 200
    return {
        row["title"]: (row["date"], row["time"], row["time_zone"])
        for row in csv.DictReader(io.StringIO(response.content.decode()))
    }


def reader(user, zone):
    user.time_zone = zone
    user.save(update_fields=["time_zone"])
    return user


def test_a_person_in_new_york_downloads_the_oslo_call_at_nine_their_time(world, client_as, plans):
    rows = downloaded(client_as(reader(world.member, "America/New_York")), plans)
    assert rows["Oslo call"] == ("2026-12-07", "09:00", "America/New_York")
    assert rows["Late call"] == ("2026-12-07", "20:00", "America/New_York")


def test_a_time_that_crosses_midnight_moves_to_the_readers_day(world, client_as, plans):
    rows = downloaded(client_as(reader(world.member, "Asia/Tokyo")), plans)
    assert rows["Late call"] == ("2026-12-08", "10:00", "Asia/Tokyo")
    assert rows["Oslo call"] == ("2026-12-07", "23:00", "Asia/Tokyo")


def test_all_day_dates_and_times_without_a_zone_are_never_shifted(world, client_as, plans):
    rows = downloaded(client_as(reader(world.member, "Pacific/Kiritimati")), plans)
    assert rows["Handover"] == ("2026-12-08", "", "")
    assert rows["Walkthrough"] == ("2026-12-09", "09:30", "")


def test_someone_without_a_zone_downloads_utc_as_their_pages_show(world, client_as, plans):
    rows = downloaded(client_as(world.viewer))
    assert rows["Oslo call"] == ("2026-12-07", "14:00", "UTC")


def test_the_command_keeps_each_events_own_zone(plans):
    out = io.StringIO()
    call_command("export_timeline", "--org", "testorg", "--format", "csv", stdout=out)
    rows = {
        row["title"]: (row["date"], row["time"], row["time_zone"])
        for row in csv.DictReader(io.StringIO(out.getvalue()))
    }
    assert rows["Oslo call"] == ("2026-12-07", "15:00", "Europe/Oslo")
    assert rows["Late call"] == ("2026-12-07", "20:00", "America/New_York")
    assert rows["Walkthrough"] == ("2026-12-09", "09:30", "")


def test_the_calendar_feed_keeps_the_events_zone_for_the_calendar_app_to_convert(plans):
    calendar = icalendar.Calendar.from_ical(export_ics(calendar_name="Harbour", project=plans))
    starts = {str(e["summary"]): e["dtstart"] for e in calendar.walk("VEVENT")}
    assert starts["Oslo call"].params["TZID"] == "Europe/Oslo"
    assert starts["Oslo call"].dt == dt.datetime(2026, 12, 7, 15, 0, tzinfo=starts["Oslo call"].dt.tzinfo)
    assert starts["Handover"].dt == dt.date(2026, 12, 8)
