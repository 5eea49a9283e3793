"""Times that belong to a zone of their own: an event's wall time, as its email gave it.

An event keeps the date and time its email wrote in the sender's zone (Event.timezone, an IANA
name, or blank when the email named none): a meeting at 15:00 Oslo stays 15:00 Oslo. Shown to
someone in another zone it is labelled with its zone, and their own time follows in brackets:
"15:00 Oslo (09:00 your time)". A time without a zone and a date without a time (all day)
are shown as written: there is nothing to convert them from.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.zones import zone_label, zone_or_none

register = template.Library()


def _elsewhere(day: dt.date | None, at: dt.time | None, zone_name: str) -> tuple[dt.datetime, dt.datetime] | None:
    """(the event's moment in its zone, the same moment in the current zone) when the two read
    differently; None when there is nothing to label."""
    zone = zone_or_none(zone_name)
    if day is None or at is None or zone is None:
        return None
    there = dt.datetime.combine(day, at, tzinfo=zone)
    here = timezone.localtime(there)
    if here.replace(tzinfo=None) == there.replace(tzinfo=None):
        return None
    return there, here


@register.simple_tag
def wall_time(day: dt.date | None, at: dt.time | None, zone_name: str = "") -> SafeString:
    """{% wall_time event.date event.time event.timezone %}: the time as HTML (empty without one)."""
    if at is None:
        return SafeString("")
    written = time_format(at, "TIME_FORMAT")
    moments = _elsewhere(day, at, zone_name)
    if moments is None:
        return format_html("{}", written)
    there, here = moments
    return format_html(
        '<time datetime="{}">{}</time> <abbr title="{}" class="zone">{}</abbr> <span class="your-time">({} your time)</span>',
        there.isoformat(timespec="minutes"),
        written,
        zone_name,
        zone_label(zone_name),
        _your_time(there, here),
    )


@register.simple_tag
def wall_time_text(day: dt.date | None, at: dt.time | None, zone_name: str = "") -> str:
    """The same for plain-text mail: "15:00 Oslo (09:00 your time)"."""
    if at is None:
        return ""
    written = time_format(at, "TIME_FORMAT")
    moments = _elsewhere(day, at, zone_name)
    if moments is None:
        return written
    there, here = moments
    return f"{written} {zone_label(zone_name)} ({_your_time(there, here)} your time)"


def _your_time(there: dt.datetime, here: dt.datetime) -> str:
    clock = time_format(here, "TIME_FORMAT")
    # Across midnight the day is said too: 23:00 New York is tomorrow in Oslo.
    return clock if here.date() == there.date() else f"{date_format(here, 'MONTH_DAY_FORMAT')}, {clock}"
