"""ISO week numbers and payment terms: dates a person writes as a week or as "net 30"."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from extraction.dates import find_dates
from extraction.providers.rules import extract
from extraction.types import Context, EmailInput

SENT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text,monday",
    [
        ("Signing: week 50", date(2026, 12, 7)),
        ("Lieferung KW 7", date(2027, 2, 15)),
        ("leverans vecka 6", date(2027, 2, 8)),
        ("oppstart uke 6 2027", date(2027, 2, 8)),
        ("entrega semana 7", date(2027, 2, 15)),
        ("tavole in settimana 3", date(2027, 1, 18)),
    ],
)
def test_an_iso_week_dates_to_its_monday(text: str, monday: date) -> None:
    assert [m.date for m in find_dates(text, SENT, day_first=True)] == [monday]


def test_a_number_of_weeks_is_not_a_week_number() -> None:
    assert [m.text for m in find_dates("in 6 weeks", SENT, day_first=True)] == ["in 6 weeks"]


def test_a_bare_day_is_the_day_of_a_date_the_sentence_gave() -> None:
    text = "Rehearsal: Tuesday 16 February at the venue (ours from midday on the 16th)."

    assert {m.date for m in find_dates(text, SENT, day_first=True)} == {date(2027, 2, 16)}


def test_a_range_with_weekdays_starts_on_its_first_day() -> None:
    assert [m.date for m in find_dates("Dates: Wednesday 10 - Thursday 11 March 2027", SENT, day_first=True)] == [
        date(2027, 3, 10)
    ]


def email(text: str) -> EmailInput:
    return EmailInput(
        message_id="<t@x>",
        subject="Invoice 2026-118",
        from_address="accounts@client.example",
        from_name="Accounts",
        to=["studio@in.projectr.example"],
        cc=[],
        date=SENT,
        text=text,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Please find attached our invoice dated 16 November for the deposit, payment net 30.",
        "Bifogar faktura daterad 16 november för handpenningen. Betalningsvillkor: 30 dagar netto.",
    ],
)
def test_a_payment_net_30_from_the_invoice_date_is_due_30_days_later(text: str) -> None:
    payments = [e for e in extract(email(text), Context()).events if e.kind == "payment"]

    assert [p.date for p in payments] == [date(2026, 12, 16)]
