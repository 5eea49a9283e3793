"""Forwarded mail: the forwarder's note and each forwarded message are read apart, each dated from
its own Date line and credited to its own author (nested forwards too)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from extraction.providers.rules import extract
from extraction.types import Context, EmailInput

NESTED = """Hi team, see below. Can we meet tomorrow at 10:00 to go through it?

---------- Forwarded message ---------
From: Ines Costa <ines@supplier.example>
Date: Mon, 9 Nov 2026 at 08:15
Subject: Fwd: Glass delivery
To: Ana Ruiz <ana@client.example>

Ana, the factory confirmed the glass below.

---------- Forwarded message ---------
From: Factory Desk <desk@glassworks.example>
Date: Mon, 2 Nov 2026 at 14:00
Subject: Glass delivery
To: Ines Costa <ines@supplier.example>

The glass panels will be delivered tomorrow.
"""


def forwarded(text: str) -> EmailInput:
    return EmailInput(
        message_id="<fwd@x>",
        subject="Fwd: Fwd: Glass delivery",
        from_address="ana@client.example",
        from_name="Ana Ruiz",
        to=["studio@in.projectr.example"],
        cc=[],
        date=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
        text=text,
    )


def test_each_forwarded_message_dates_its_own_tomorrow() -> None:
    events = {(e.kind, e.date) for e in extract(forwarded(NESTED), Context()).events}

    assert ("milestone", date(2026, 11, 3)) in events  # the factory's tomorrow, not the forwarder's
    assert ("meeting", date(2026, 11, 17)) in events  # the note's tomorrow is the forward's own


def test_events_of_a_forwarded_message_are_credited_to_its_author() -> None:
    people = {e.date: e.people for e in extract(forwarded(NESTED), Context()).events}

    assert people[date(2026, 11, 3)] == ["Factory Desk"]
    assert people[date(2026, 11, 17)] == ["Ana Ruiz"]


CHAT = """Pasting the site chat so it's on record.

[06:58, 2026-11-16] Johan Berg: The concrete for the balcony slabs comes tomorrow at 7.
[07:03, 2026-11-16] Hassan: 👍
[09:40, 2026-11-17] Marek Fasadputs: We need the scaffold moved tomorrow, site meeting at 10:00?
"""


def test_a_pasted_chat_log_dates_each_line_from_its_own_timestamp_and_author() -> None:
    mail = forwarded(CHAT)
    events = extract(EmailInput(**{**mail.__dict__, "subject": "Site chat"}), Context()).events

    by_date = {e.date: e.people for e in events}
    assert by_date[date(2026, 11, 17)] == ["Johan Berg"]  # his tomorrow, not the email's
    assert by_date[date(2026, 11, 18)] == ["Marek Fasadputs"]


OUTLOOK_CHAIN = """Hej Anders, se nedan. Kan du informera de boende senast torsdag?

---------- Vidarebefordrat meddelande ---------
Från: Peter Åberg <peter@railings.example>
Date: fre 13 nov. 2026 kl 14:31
Subject: VB: Leveranstid
To: Karin <karin@builder.example>

Hej Karin, se nedan från glasleverantören.

Från: Sofia Rehn <sofia@glass.example>
Skickat: onsdag den 11 november 2026 10:02
Till: Peter Åberg <peter@railings.example>
Ämne: Leveranstid

Hej Peter, vi behöver er bekräftelse på kulören senast på fredag.
"""


def test_a_message_under_outlooks_bare_header_block_is_dated_from_its_sent_line() -> None:
    mail = forwarded(OUTLOOK_CHAIN)
    events = extract(EmailInput(**{**mail.__dict__, "subject": "Fwd: VB: Leveranstid"}), Context()).events
    by_date = {e.date: e.people for e in events}

    assert by_date[date(2026, 11, 13)] == ["Sofia Rehn"]  # her Friday, from Wed 11 Nov
    assert date(2026, 11, 20) not in by_date  # not the Friday after the forward
    assert date(2026, 11, 19) in by_date  # the forwarder's own Thursday


def test_a_reply_does_not_read_the_message_it_quotes_under_a_dutch_outlook_header() -> None:
    reply = """Ik ontvang graag uiterlijk vrijdag 20 november de stukken.

Van: Marloes Hendriks <marloes@client.example>
Verzonden: maandag 9 november 2026 11:23
Aan: Joris <joris@firm.example>
Onderwerp: Smit v Tulpwerk

Could we meet this Thursday at 10:00 at your office?
"""
    mail = forwarded(reply)
    events = extract(EmailInput(**{**mail.__dict__, "subject": "RE: Smit v Tulpwerk"}), Context()).events

    assert [(e.kind, e.date) for e in events] == [("deadline", date(2026, 11, 20))]
