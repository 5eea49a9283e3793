"""Date phrases resolved against the email's Date header (Tuesday 24 November 2026)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from extraction.dates import day_first_for, find_dates, find_time

TUESDAY = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def first(text: str, *, day_first: bool = False, base: datetime = TUESDAY) -> date:
    mentions = find_dates(text, base, day_first=day_first)
    assert mentions, f"no date found in {text!r}"
    return mentions[0].date


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Can we meet next Friday?", date(2026, 12, 4)),  # the Friday of the following week
        ("See you on Friday", date(2026, 11, 27)),
        ("Mötet på torsdag", date(2026, 11, 26)),  # Swedish
        ("Vi tar det neste fredag", date(2026, 12, 4)),  # Norwegian, as "next Friday"
        ("Vi ses i morgen", date(2026, 11, 25)),
        ("Jeg ringte i går", date(2026, 11, 23)),
        ("Levering i dag", date(2026, 11, 24)),
        ("this Friday works", date(2026, 11, 27)),
        ("Need it EOD tomorrow", date(2026, 11, 25)),
        ("by end of day tomorrow", date(2026, 11, 25)),
        ("EOD Friday please", date(2026, 11, 27)),
        ("due on the 21st", date(2026, 12, 21)),  # the 21st has passed this month
        ("by the 30th", date(2026, 11, 30)),
        ("today", date(2026, 11, 24)),
        ("we spoke yesterday", date(2026, 11, 23)),
        ("we met last Thursday", date(2026, 11, 19)),
        ("in two weeks", date(2026, 12, 8)),
        ("by the end of the month", date(2026, 11, 30)),
        ("by the end of next week", date(2026, 12, 4)),
        ("on 2026-12-03", date(2026, 12, 3)),
        ("Dec 3 at 2:30pm", date(2026, 12, 3)),
        ("on 21 March", date(2027, 3, 21)),  # yearless and long past: next year's
        ("on 10 November", date(2026, 11, 10)),  # yearless but recent: this year's
        ("March 21st, 2027", date(2027, 3, 21)),
        ("Thu Dec 10", date(2026, 12, 10)),
        ("am 7. Dezember", date(2026, 12, 7)),
        ("le 1er décembre", date(2026, 12, 1)),
        ("el 2 de diciembre", date(2026, 12, 2)),
        ("install on 14–16 December", date(2026, 12, 14)),
        ("nächsten Freitag", date(2026, 12, 4)),
        ("am Dienstag, den 8. Dezember", date(2026, 12, 8)),
        ("el próximo lunes", date(2026, 11, 30)),
        ("giovedì alle 15:00", date(2026, 11, 26)),
        ("mardi prochain", date(2026, 12, 1)),
        ("bis Ende nächster Woche", date(2026, 12, 4)),
        ("Monday the 30th", date(2026, 11, 30)),
        ("vom 11.01. bis 23.01.2027 geschlossen", date(2027, 1, 11)),
        ("the final report by the end of February", date(2027, 2, 28)),
        ("bis Ende Januar", date(2027, 1, 31)),
    ],
)
def test_it_resolves_date_phrases_against_the_email_date(text: str, expected: date) -> None:
    assert first(text) == expected


@pytest.mark.parametrize(
    "text,day_first,expected",
    [
        ("on 3/10", True, date(2027, 10, 3)),
        ("on 3/10", False, date(2027, 3, 10)),
        ("on 27/11", False, date(2026, 11, 27)),  # unambiguous whatever the convention
        ("on 12.03.", False, date(2027, 3, 12)),  # dots are always day first
        ("on 03/12/2026", True, date(2026, 12, 3)),
        ("on 03/12/2026", False, date(2026, 3, 12)),
    ],
)
def test_it_reads_numeric_dates_in_the_senders_convention(text: str, day_first: bool, expected: date) -> None:
    assert first(text, day_first=day_first) == expected


@pytest.mark.parametrize(
    "domain,offset,expected",
    [
        ("hendersonfamily.co.uk", 0, True),
        ("mueller-bau.de", 1, True),
        ("cafe-lumiere.fr", 1, True),
        ("oakridgedental.com.au", 11, True),
        ("acmecorp.com", -5, False),
        ("example.us", 1, False),
        ("gmail.com", 1, True),  # a generic domain: the Date header's offset decides
        ("gmail.com", -8, False),
    ],
)
def test_it_guesses_the_senders_date_convention(domain: str, offset: int, expected: bool) -> None:
    assert day_first_for(domain, timedelta(hours=offset)) is expected


def test_a_weekday_said_on_that_weekday_means_next_week() -> None:
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert first("Friday", base=friday) == date(2026, 12, 4)
    assert first("this Friday", base=friday) == date(2026, 11, 27)


def test_it_finds_no_dates_in_amounts_and_versions() -> None:
    assert find_dates("Total €1,240.50 for v2.3 of 5 items", TUESDAY, day_first=True) == []


@pytest.mark.parametrize(
    "text,expected",
    [
        ("at 10am", time(10, 0)),
        ("at 2:30pm", time(14, 30)),
        ("um 10 Uhr", time(10, 0)),
        ("à 14h30", time(14, 30)),
        ("at 15:00", time(15, 0)),
        ("at noon", time(12, 0)),
        ("costs 12.50 each", None),
    ],
)
def test_it_finds_clock_times(text: str, expected: time | None) -> None:
    assert find_time(text) == expected


def test_a_span_yields_its_start_but_a_move_keeps_both_ends() -> None:
    span = find_dates("closed from 14 December to 18 December", TUESDAY, day_first=True)
    move = find_dates("can we push the review from Thursday to next Tuesday?", TUESDAY, day_first=True)

    assert [m.date for m in span] == [date(2026, 12, 14)]
    assert [m.date for m in move] == [date(2026, 11, 26), date(2026, 12, 1)]


def test_a_recurring_day_is_not_a_date() -> None:
    assert find_dates("our AP cutoff is the 25th of each month", TUESDAY, day_first=True) == []


@pytest.mark.parametrize(
    "text",
    [
        "by Friday next week",
        "on Friday of next week",
        "bis Freitag nächster Woche",
        "até sexta-feira da próxima semana",
        "vendredi de la semaine prochaine",
        "entro venerdì della prossima settimana",
        "el viernes de la semana que viene",
        "fredag i næste uge",
        "fredag neste uke",
        "vrijdag volgende week",
    ],
)
def test_a_weekday_of_next_week_is_that_day_not_this_weeks_or_the_week_alone(text: str) -> None:
    mentions = find_dates(text, TUESDAY, day_first=True)

    assert [(m.date, m.exact) for m in mentions] == [(date(2026, 12, 4), True)]  # Tue 24 Nov → Fri 4 Dec
