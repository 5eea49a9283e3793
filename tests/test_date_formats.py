"""One way to write a date: templates (and the few Python helpers that format dates for them) name
one of config/formats' formats instead of spelling one out, so "7 Dec 2026" reads the same on every
page, and "Dec. 7, 2026" nowhere."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import formats

from tests.conftest import ROOT

NAMED = {
    "DATE_FORMAT",
    "SHORT_DATE_FORMAT",
    "MONTH_DAY_FORMAT",
    "YEAR_MONTH_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "TIME_FORMAT",
}
# For machines, not people: ISO 8601 in datetime="" attributes and data values.
MACHINE = {"c", "Y-m-d", "Y-m"}
# The timeline's day badge draws the day number and the weekday one above the other.
BADGE_PARTS = {"j", "D"}
ALLOWED = NAMED | MACHINE | BADGE_PARTS

FILTER = re.compile(r"""\|\s*(date|time)\s*:\s*(["'])(?P<format>.*?)\2""")
NOW_TAG = re.compile(r"""\{%\s*now\s+(["'])(?P<format>.*?)\1""")
PYTHON_CALL = re.compile(r"""\b(date_format|time_format)\([^,()]*(?:\([^()]*\))?[^,()]*,\s*(["'])(?P<format>.*?)\2""")

TEMPLATES = sorted(
    path
    for path in (ROOT / "templates").rglob("*")
    if path.suffix in (".html", ".txt") and "admin" not in path.relative_to(ROOT / "templates").parts[:1]
)
APPS = ("accounts", "api", "billing", "config", "events", "inbound", "organizations", "projects", "usage", "ops")
PYTHON = sorted(path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts)


def ad_hoc_formats(path: Path, *patterns: re.Pattern[str]) -> list[str]:
    text = path.read_text()
    found = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            if match.group("format") not in ALLOWED:
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    return found


def test_it_reads_every_template_and_the_python_that_formats_dates():
    names = {path.name for path in TEMPLATES}
    assert {"timeline_row.html", "agenda.html", "digest.txt", "email.html"} <= names
    assert any(path.name == "limits.py" for path in PYTHON)
    # The patterns find what they are for.
    assert FILTER.search('{{ x|date:"N j, Y" }}').group("format") == "N j, Y"
    assert PYTHON_CALL.search('date_format(timezone.localtime(value), "N j, Y")').group("format") == "N j, Y"


def test_no_template_spells_out_a_date_format():
    found = [hit for path in TEMPLATES for hit in ad_hoc_formats(path, FILTER, NOW_TAG)]
    assert not found, "name a format of config/formats instead:\n" + "\n".join(found)


def test_no_python_spells_out_a_date_format_for_a_page():
    found = [hit for path in PYTHON for hit in ad_hoc_formats(path, PYTHON_CALL)]
    assert not found, "name a format of config/formats instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("DATE_FORMAT", "7 Dec 2026"),
        ("SHORT_DATE_FORMAT", "7 Dec"),
        ("MONTH_DAY_FORMAT", "Mon 7 Dec"),
        ("DATETIME_FORMAT", "7 Dec 2026, 15:04"),
        ("SHORT_DATETIME_FORMAT", "7 Dec, 15:04"),
        ("TIME_FORMAT", "15:04"),
    ],
)
def test_the_formats_write_day_month_year_and_24_hour_times(name, written):
    moment = dt.datetime(2026, 12, 7, 15, 4)
    assert formats.date_format(moment, name) == written
