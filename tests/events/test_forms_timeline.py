"""Date and time inputs: drawn by the browser in its own locale, written and read as ISO."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from events.forms_timeline import EventForm, TimelineFilterForm
from tests.factories import EventFactory


def test_the_event_editor_writes_its_date_and_time_as_iso_for_the_browser_to_draw():
    form = EventForm(initial={"kind": "meeting", "title": "Call", "date": dt.date(2026, 12, 7), "time": dt.time(15, 0)})
    html = str(form["date"]) + str(form["time"])
    assert 'type="date"' in html and 'value="2026-12-07"' in html
    assert 'type="time"' in html and 'value="15:00"' in html


def test_the_event_editor_reads_what_the_browser_submits():
    form = EventForm(data={"kind": "meeting", "title": "Call", "date": "2026-12-07", "time": "15:00"})
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["date"], form.cleaned_data["time"]) == (dt.date(2026, 12, 7), dt.time(15, 0))


def test_a_date_is_a_date_in_every_zone():
    with timezone.override("Pacific/Auckland"):
        form = EventForm(data={"kind": "deadline", "title": "Drawings", "date": "2026-12-07"})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["date"] == dt.date(2026, 12, 7)


def test_the_timeline_filters_are_date_inputs_that_read_iso():
    form = TimelineFilterForm(data={"date_from": "2026-12-01", "date_to": "2026-12-31"})
    assert 'type="date"' in str(form["date_from"])
    found = form.to_filter()
    assert (found.date_from, found.date_to) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def test_the_editor_says_which_zone_an_events_time_is_in():
    assert EventForm(zone="Europe/Oslo")["time"].label == "Time (Oslo)"
    assert EventForm()["time"].label == "Time"


def test_editing_an_oslo_meeting_labels_its_time_field_with_oslo(world, client_as):
    event = EventFactory(date=dt.date(2026, 12, 7), time=dt.time(15, 0), timezone="Europe/Oslo")
    url = reverse("projects:event_edit", args=[event.project.code, event.code])
    body = client_as(world.member).get(url).content.decode()
    assert "Time (Oslo)" in body
    assert 'value="15:00"' in body
