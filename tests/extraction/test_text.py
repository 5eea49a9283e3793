"""Reply stripping, forwards, and mail that should produce no events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
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


# --- the reply parser's headers, found only where they can begin -------------------------------

HEADER_EDGE_CASES = [
    "",
    "\n\n\n",
    "Thanks, see you then.",
    "Thanks\n\nOn Tue, 3 Dec 2026 at 10:00, Dana <d@client.example> wrote:\n> Can we meet?\n",
    "> On Mon, Dana wrote:\n> > Am Montag, 2. Dezember 2026 schrieb Hans <h@x.de>:\n> > > Hallo\n",
    "Fine.\n-----Original Message-----\nFrom: Dana\nSent: Monday\nTo: Sam\nSubject: Kitchen\n\nold text",
    "Se nedenfor -----Oprindelig meddelelse-----\nFra: Per\nSendt: mandag\nTil: Sam\nEmne: Tag\n\ngammel",
    "From: Dana <d@client.example>\nTo: Sam\nDate: Mon\n\nThe body starts with a header block.",
    "Le lun. 3 déc. 2026 à 10:00, Marie <m@x.fr> a écrit :\n> Bonjour\n",
    "Il giorno lun 3 dic 2026 alle 10:00 Luca ha scritto:\n> Ciao\n",
    "Op ma 3 dec. 2026 om 10:00 schreef Jan <j@x.nl>:\n> Hoi\n",
    "Dnia 3 grudnia 2026 Jan napisał(a):\n> Cześć\n",
    "El lunes, 3 de diciembre de 2026, Ana escribió:\n> Hola\n",
    "Den 3 dec 2026 skrev Per <p@x.se>:\n> Hej\n",
    "Od: Jan\nDo: Sam\n\ntekst",
    "No newline at the end From: x",
    "-----\n----------\n-----Original Message-----",
    "A line\n  \n* From: Dana\n* Sent: Monday\n* To: Sam\n",
]


def _reply_bodies() -> list[str]:
    from tests.conftest import CORPORA
    from tests.extraction.test_corpora import email_input

    paths = sorted((CORPORA / "mime").glob("*")) + sorted(Path(__file__).parents[1].glob("data/labelled*/*.eml"))
    texts = [email.text for email in map(email_input, paths) if email is not None and email.text]
    assert len(texts) > 100  # the corpora and the labelled sets are there
    rng = random.Random(8)
    lines = [line for case in HEADER_EDGE_CASES for line in case.split("\n")]
    shuffled = ["\n".join(rng.choices(lines, k=rng.randint(1, 30))) for _ in range(300)]
    return texts + HEADER_EDGE_CASES + shuffled


def test_the_reply_parsers_headers_are_found_as_the_librarys_findall_finds_them() -> None:
    from mailparser_reply.parser import EmailMessage

    from extraction.text import REPLY_LANGUAGES, _HeadersAtLineStarts

    for text in _reply_bodies():
        message = EmailMessage(text=text, languages=list(REPLY_LANGUAGES))
        regex = message.HEADER_REGEX

        assert _HeadersAtLineStarts(regex).findall(message.text) == regex.findall(message.text), text[:200]


def test_the_reply_parser_splits_every_body_as_the_library_does() -> None:
    from mailparser_reply import EmailReplyParser

    from extraction.text import REPLY_LANGUAGES, _ReplyMessage

    def parts(message: Any) -> list[tuple[Any, ...]]:
        return [(r.content, r.headers, r.signatures, r.disclaimers) for r in message.replies]

    for text in _reply_bodies():
        ours = _ReplyMessage(text=text, languages=list(REPLY_LANGUAGES)).read()

        assert parts(ours) == parts(EmailReplyParser(languages=REPLY_LANGUAGES).read(text)), text[:200]
