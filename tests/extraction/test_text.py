"""Reply stripping, forwards, and mail that should produce no events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from extraction.text import normalise_subject, prepare, skip_reason
from extraction.types import EmailInput


def email(text: str, **kw: Any) -> EmailInput:
    values: dict[str, Any] = {
        "message_id": "<m@x>",
        "subject": "Kitchen",
        "from_address": "a@client.example",
        "from_name": "A",
        "to": [],
        "cc": [],
        "date": datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        "text": text,
    }
    values.update(kw)
    return EmailInput(**values)


@pytest.mark.parametrize(
    "subject,expected",
    [
        ("Re: AW: [EXT] Fwd: Kitchen plans ", "kitchen plans"),
        ("SV: Tilbud", "tilbud"),
        ("RE[2]: Budget", "budget"),
    ],
)
def test_it_normalises_subjects(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


@pytest.mark.parametrize(
    "quote",
    [
        "On Mon, 23 Nov 2026 at 10:00, Tom <tom@x.com> wrote:\n> old news on Friday",
        "Am 23.11.2026 um 10:00 schrieb Tom <tom@x.com>:\n> alte Nachricht",
        "-----Original Message-----\nFrom: Tom\nSent: Monday\nSubject: old\n\nold news",
        "Le lun. 23 nov. 2026 à 10:00, Tom <tom@x.com> a écrit :\n> ancien message",
    ],
)
def test_it_keeps_only_the_new_part_of_a_reply(quote: str) -> None:
    prepared = prepare(email(f"New text here.\n\n{quote}\n"))

    assert prepared.body == "New text here."


def test_it_drops_the_signature_but_keeps_bullet_lists() -> None:
    text = "Schedule:\n\n- Demolition on Monday.\n- Delivery on Friday.\n\nKind regards,\nTom\n--\nTom Baker\n+44 20 7946 0321"

    assert prepare(email(text)).body == "Schedule:\n\n• Demolition on Monday.\n• Delivery on Friday."


def test_it_prefers_the_providers_stripped_text() -> None:
    prepared = prepare(email("New.\n\n> old", stripped_text="Only this."))

    assert prepared.body == "Only this."


def test_a_forward_keeps_the_forwarded_message_its_sender_and_its_date() -> None:
    text = (
        "FYI\n\n---------- Forwarded message ---------\nFrom: Anna <anna@mueller-bau.de>\n"
        "Date: Mon, 2 Mar 2026 at 09:14\nSubject: Baustelle\nTo: Tom <tom@x.com>\n\nTermin am 12.03. um 10 Uhr.\n"
    )

    prepared = prepare(email(text, subject="Fwd: Baustelle"))

    assert prepared.body == "FYI\n\nTermin am 12.03. um 10 Uhr."
    assert prepared.forwarded_from == "Anna <anna@mueller-bau.de>"
    assert prepared.base_date is not None and prepared.base_date.date().isoformat() == "2026-03-02"


@pytest.mark.parametrize(
    "kw,reason",
    [
        ({"headers": [("Auto-Submitted", "auto-replied")]}, "auto-submitted"),
        ({"headers": [("Auto-Submitted", "no")]}, ""),
        ({"headers": [("auto-submitted", "No"), ("Auto-Submitted", "auto-generated")]}, ""),
        ({"headers": [("PRECEDENCE", " Bulk "), ("Precedence", "first-class")]}, "bulk"),
        ({"headers": [("X-Auto-Response-Suppress", "All")]}, "auto-reply"),
        ({"headers": [("X-Auto-Response-Suppress", "OOF")]}, ""),
        ({"headers": [("List-Unsubscribe", "")]}, ""),
        ({"headers": [("List-Id", "<news.example>")]}, "mailing list"),
        ({"subject": "Abwesenheitsnotiz: Angebot"}, "auto-reply subject"),
        ({"subject": "Undeliverable: Kitchen"}, "auto-reply subject"),
        ({"from_address": "mailer-daemon@mx.example"}, "automated sender"),
        ({"text": "Big sale!\n\nUnsubscribe here."}, "newsletter"),
        ({}, ""),
    ],
)
def test_it_says_why_an_email_should_yield_nothing(kw: dict[str, Any], reason: str) -> None:
    assert skip_reason(email(kw.pop("text", "Hello"), **kw)) == reason


def test_gmails_forwarded_date_reads_as_dateparser_reads_it() -> None:
    import dateparser

    from extraction.text import _parse_header_date

    start = datetime(2024, 1, 1)
    days = [start + timedelta(days=n) for n in range(0, 4 * 366, 31)]
    times = ["0:00", "9:05", "09:05", "16:02", "23:59"]
    values = [f"{d:%a}, {d.day} {d:%b %Y} at {times[n % len(times)]}" for n, d in enumerate(days)]
    values += [f"{(d + timedelta(days=1)):%a}, {d.day} {d:%b %Y} at 10:00" for d in days[:10]]  # wrong weekday
    values += ["Sat, 31 Nov 2026 at 10:12", "Fri, 06 Nov 2026 at 9:05", "fri, 20 nov 2026 at 16:02", "Fri, 20 Nov 2026"]

    for value in values:
        expected = dateparser.parse(value.replace(" at ", " "), settings={"RETURN_AS_TIMEZONE_AWARE": False})
        assert _parse_header_date(value) == expected, value
