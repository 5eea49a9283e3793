"""{% wall_time %}: an event's time as its email wrote it, with the reader's own time beside it
when the two differ."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone

from accounts.zones import zone_label

DAY = dt.date(2026, 12, 7)
THREE_PM = dt.time(15, 0)


def shown(day, at, zone, reader="UTC", *, text=False):
    tag = "wall_time_text" if text else "wall_time"
    template = Template("{% load time_zones %}{% " + tag + " day at zone %}")
    with timezone.override(reader):
        return template.render(Context({"day": day, "at": at, "zone": zone}))


def test_a_time_without_a_zone_is_shown_as_written():
    assert shown(DAY, THREE_PM, "", reader="Asia/Tokyo") == "15:00"


def test_a_time_in_the_readers_own_zone_needs_no_label():
    assert shown(DAY, THREE_PM, "Europe/Oslo", reader="Europe/Oslo") == "15:00"


def test_a_zone_that_reads_the_same_as_the_readers_needs_no_label_either():
    assert shown(DAY, THREE_PM, "Europe/Berlin", reader="Europe/Oslo") == "15:00"


def test_a_meeting_in_oslo_read_in_new_york_keeps_its_time_and_gives_the_readers():
    html = shown(DAY, THREE_PM, "Europe/Oslo", reader="America/New_York")
    assert html == (
        '<time datetime="2026-12-07T15:00+01:00">15:00</time> <abbr title="Europe/Oslo" class="zone">Oslo</abbr>'
        ' <span class="your-time">(09:00 your time)</span>'
    )


def test_across_midnight_the_readers_day_is_said_too():
    text = shown(DAY, dt.time(20, 0), "America/New_York", reader="Europe/Oslo", text=True)
    assert text == "20:00 New York (Tue 8 Dec, 02:00 your time)"


def test_summer_time_is_the_events_own():
    # 15:00 Oslo in July is UTC+2: 13:00 in UTC.
    assert shown(dt.date(2026, 7, 1), THREE_PM, "Europe/Oslo", text=True) == "15:00 Oslo (13:00 your time)"


def test_the_plain_text_version_has_no_markup():
    assert shown(DAY, THREE_PM, "Europe/Oslo", reader="UTC", text=True) == "15:00 Oslo (14:00 your time)"


def test_no_time_shows_nothing_and_no_date_cannot_be_converted():
    assert shown(DAY, None, "Europe/Oslo") == ""
    assert shown(None, THREE_PM, "Europe/Oslo", reader="Asia/Tokyo") == "15:00"


def test_an_unknown_zone_is_shown_as_written():
    assert shown(DAY, THREE_PM, "Mars/Olympus", reader="Asia/Tokyo") == "15:00"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Europe/Oslo", "Oslo"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ("UTC", "UTC"),
        ("Etc/GMT-2", "UTC+2"),
        ("Etc/GMT+5", "UTC-5"),
    ],
)
def test_zones_are_labelled_by_their_city_or_offset(name, label):
    assert zone_label(name) == label
