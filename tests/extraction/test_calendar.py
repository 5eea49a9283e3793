"""extraction.calendar: invitations read from calendar texts, and the rules provider's meetings from them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from extraction.calendar import MAX_CALENDAR_CHARS, calendars_read, is_calendar, offset_zone, zone_name
from extraction.providers import rules
from extraction.types import Context, EmailInput, EventRef

SENT = datetime(2026, 3, 4, 11, 2, tzinfo=timezone(timedelta(hours=1)))  # Wednesday 4 March, +01:00


def calendar(*events: str, method: str | None = "REQUEST", extra: str = "") -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Test//EN"]
    if method:
        lines.append(f"METHOD:{method}")
    text = "\r\n".join(lines) + "\r\n" + extra
    for body in events:
        text += "BEGIN:VEVENT\r\n" + body.strip().replace("\n", "\r\n") + "\r\nEND:VEVENT\r\n"
    return text + "END:VCALENDAR\r\n"


def event(start: str = "DTSTART;TZID=Europe/Berlin:20260310T140000", **more: str) -> str:
    fields = {"UID": "uid-1@example.test", "SUMMARY": "Brand workshop", "DTSTAMP": "20260302T081204Z", **more}
    return start + "\n" + "\n".join(f"{name.replace('_', '-')}:{value}" for name, value in fields.items())


def one(text: str, sent: datetime | None = SENT):
    reading = calendars_read([text], sent_at=sent)
    assert reading.problems == ()
    (invitation,) = reading.invitations
    return invitation


def test_a_tzid_start_keeps_the_organizers_wall_time_and_names_the_zone():
    invitation = one(calendar(event(LOCATION="Harbour Foods HQ\\, Hamburg", SEQUENCE="2")))
    assert (invitation.method, invitation.uid, invitation.sequence) == ("REQUEST", "uid-1@example.test", 2)
    assert (invitation.day, invitation.at, invitation.zone) == (date(2026, 3, 10), time(14, 0), "Europe/Berlin")
    assert (invitation.summary, invitation.location) == ("Brand workshop", "Harbour Foods HQ, Hamburg")
    assert invitation.start_text() == "Tue 10 Mar 2026 14:00 (Europe/Berlin)"


@pytest.mark.parametrize(
    ("tzid", "zone"),
    [
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("GMT Standard Time", "Europe/London"),
        ("AUS Eastern Standard Time", "Australia/Sydney"),
        ('"Europe/Paris"', "Europe/Paris"),
        ("/mozilla.org/20050126_1/America/New_York", "America/New_York"),
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", ""),
    ],
)
def test_zone_names_as_mail_writes_them(tzid, zone):
    assert zone_name(tzid) == zone


def test_a_windows_zone_without_its_vtimezone_is_mapped():
    invitation = one(calendar(event("DTSTART;TZID=AUS Eastern Standard Time:20260317T093000")))
    assert (invitation.day, invitation.at, invitation.zone) == (date(2026, 3, 17), time(9, 30), "Australia/Sydney")


def test_a_display_name_zone_is_placed_by_its_own_vtimezone():
    # Exchange 2007 names the zone for people (its display name); only its VTIMEZONE places it.
    name = "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"
    vtimezone = (
        f"BEGIN:VTIMEZONE\r\nTZID:{name}\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    invitation = one(calendar(event(f'DTSTART;TZID="{name}":20260317T093000'), extra=vtimezone))
    assert (invitation.at, invitation.zone) == (time(9, 30), "Etc/GMT-1")


def test_one_senders_vtimezone_is_not_used_for_the_next_calendar():
    def zone(offset: str) -> str:
        return (
            f"BEGIN:VTIMEZONE\r\nTZID:Head Office Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
            f"TZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        )

    start = "DTSTART;TZID=Head Office Time:20260317T093000"
    assert one(calendar(event(start), extra=zone("+0900"))).zone == "Etc/GMT-9"
    assert one(calendar(event(start), extra=zone("+0200"))).zone == "Etc/GMT-2"


def test_a_utc_start_is_shown_in_the_offset_of_the_emails_date():
    sydney = datetime(2026, 3, 6, 9, 0, tzinfo=timezone(timedelta(hours=11)))
    invitation = one(calendar(event("DTSTART:20260312T230000Z")), sent=sydney)
    assert (invitation.day, invitation.at, invitation.zone) == (date(2026, 3, 13), time(10, 0), "Etc/GMT-11")
    assert one(calendar(event("DTSTART:20260312T230000Z")), sent=None).zone == "UTC"


@pytest.mark.parametrize(("hours", "zone"), [(0, "UTC"), (2, "Etc/GMT-2"), (-5, "Etc/GMT+5"), (5.5, "")])
def test_offsets_become_zones_a_calendar_export_can_place(hours, zone):
    assert offset_zone(timedelta(hours=hours)) == zone


def test_an_all_day_meeting_has_a_date_and_no_time():
    invitation = one(calendar(event("DTSTART;VALUE=DATE:20260320")))
    assert (invitation.day, invitation.at, invitation.zone) == (date(2026, 3, 20), None, "")


def test_a_series_shows_its_next_occurrence_after_the_email_and_how_it_repeats():
    weekly = event("DTSTART;TZID=Europe/Berlin:20260106T100000", RRULE="FREQ=WEEKLY;BYDAY=TU")
    invitation = one(calendar(weekly))
    assert (invitation.day, invitation.at, invitation.recurrence) == (date(2026, 3, 10), time(10, 0), "weekly")

    fortnightly = event("DTSTART;TZID=Europe/Berlin:20260106T100000", RRULE="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
    invitation = one(calendar(fortnightly))
    assert (invitation.day, invitation.recurrence) == (date(2026, 3, 17), "every 2 weeks")


def test_a_series_sent_on_the_day_of_an_occurrence_shows_that_one():
    daily = event("DTSTART;TZID=Europe/Berlin:20260101T090000", RRULE="FREQ=DAILY")
    assert one(calendar(daily)).day == date(2026, 3, 4)


def test_a_series_skips_its_exceptions_and_applies_its_overrides():
    series = event(
        "DTSTART;TZID=Europe/Berlin:20260106T100000",
        RRULE="FREQ=WEEKLY;BYDAY=TU",
        EXDATE="20260310T100000",
    ).replace("EXDATE:", "EXDATE;TZID=Europe/Berlin:")
    moved = event("DTSTART;TZID=Europe/Berlin:20260318T110000", RECURRENCE_ID="20260317T100000", SEQUENCE="1").replace(
        "RECURRENCE-ID:", "RECURRENCE-ID;TZID=Europe/Berlin:"
    )
    invitation = one(calendar(series, moved))
    assert (invitation.day, invitation.at, invitation.occurrence) == (date(2026, 3, 18), time(11, 0), None)


def test_a_series_that_has_ended_is_not_a_meeting():
    ended = event("DTSTART;TZID=Europe/Berlin:20250106T100000", RRULE="FREQ=WEEKLY;COUNT=3")
    assert calendars_read([calendar(ended)], sent_at=SENT).invitations == ()


def test_an_occurrence_sent_alone_says_which_one_it_is():
    instance = event("DTSTART;TZID=Europe/Berlin:20260318T110000", RECURRENCE_ID="20260317T100000")
    invitation = one(calendar(instance.replace("RECURRENCE-ID:", "RECURRENCE-ID;TZID=Europe/Berlin:"), method="CANCEL"))
    assert (invitation.method, invitation.occurrence) == ("CANCEL", date(2026, 3, 17))


def test_methods_as_the_timeline_reads_them():
    assert one(calendar(event(), method="PUBLISH")).method == "REQUEST"
    assert one(calendar(event(), method=None)).method == "REQUEST"  # an event file someone attached
    assert one(calendar(event(STATUS="CANCELLED"))).method == "CANCEL"
    assert one(calendar(event(), method="CANCEL")).method == "CANCEL"
    assert calendars_read([calendar(event(), method="COUNTER")], sent_at=SENT).invitations == ()


def test_a_reply_carries_the_attendees_answer():
    attendee = "ATTENDEE;CN=Sam Lee;PARTSTAT=ACCEPTED:mailto:sam@harbourfoods.example"
    invitation = one(calendar(event() + "\n" + attendee, method="REPLY"))
    assert invitation.method == "REPLY"
    assert [(p.name, p.address, p.answer) for p in invitation.attendees] == [
        ("Sam Lee", "sam@harbourfoods.example", "accepted")
    ]


def test_people_are_the_organizer_then_the_attendees_by_name_once_each():
    people = (
        "ORGANIZER;CN=Pat Keller:mailto:pat@harbourfoods.example\n"
        "ATTENDEE;CN=Pat Keller;PARTSTAT=ACCEPTED:mailto:pat@harbourfoods.example\n"
        'ATTENDEE;CN="Weber, Jonas":mailto:jonas@harbourfoods.example\n'
        "ATTENDEE:mailto:owner@testorg.test"
    )
    invitation = one(calendar(event() + "\n" + people))
    assert invitation.people == ["Pat Keller", "Weber, Jonas", "owner@testorg.test"]


def test_exchange_sequence_stands_in_for_a_missing_one():
    assert one(calendar(event(X_MICROSOFT_CDO_APPT_SEQUENCE="3"))).sequence == 3


def test_the_same_calendar_inline_and_as_invite_ics_is_one_invitation():
    text = calendar(event())
    assert len(calendars_read([text, text], sent_at=SENT).invitations) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not a calendar at all", "Calendar invitation not read: the calendar is malformed (ValueError:"),
        (
            calendar(event("DTSTART;TZID=Europe/Berlin:2026-03-20 11:00")),
            "Calendar invitation not read: “Brand workshop” in the calendar has no readable start.",
        ),
        (calendar(event("SUMMARY:Nothing else").replace("DTSTART", "X-NO-START")), "has no readable start"),
        (calendar(), "Calendar invitation not read: the calendar has no event."),
        ("BEGIN:VCALENDAR\r\n" + "X" * MAX_CALENDAR_CHARS, "is larger than 256 KB"),
    ],
)
def test_a_malformed_calendar_is_a_problem_not_an_error(text, problem):
    reading = calendars_read([text], sent_at=SENT)
    assert reading.invitations == ()
    assert len(reading.problems) == 1 and problem in reading.problems[0]


def test_a_broken_event_does_not_hide_the_good_one_beside_it():
    broken = event("DTSTART:tomorrow-ish", UID="broken@example.test")
    reading = calendars_read([calendar(broken, event())], sent_at=SENT)
    assert [i.uid for i in reading.invitations] == ["uid-1@example.test"]
    assert len(reading.problems) == 1


def test_calendar_attachments_by_type_or_name():
    assert is_calendar("invite.ics", "application/ics")
    assert is_calendar("", "text/calendar")
    assert is_calendar("Meeting.ICS", "application/octet-stream")
    assert not is_calendar("plan.pdf", "application/pdf")


# -- The rules provider -------------------------------------------------------------------------


def email_input(text: str, calendars: list[str], subject: str = "Invitation: Brand workshop") -> EmailInput:
    return EmailInput(
        message_id="<a@example.test>",
        subject=subject,
        from_address="pat@harbourfoods.example",
        from_name="Pat Keller",
        to=["owner@testorg.test"],
        cc=[],
        date=SENT,
        text=text,
        calendars=calendars,
    )


def test_the_rules_provider_makes_the_invitation_a_meeting_and_drops_the_sentence_about_it():
    text = "Let's meet for the brand workshop on Tuesday 10 March at 2pm.\nThe logo files are due on 6 March.\n"
    organizer = "ORGANIZER;CN=Pat Keller:mailto:pat@harbourfoods.example"
    extraction = rules.extract(email_input(text, [calendar(event() + "\n" + organizer)]), Context())

    meeting, *rest = extraction.events
    assert (meeting.kind, meeting.date, meeting.time, meeting.timezone) == (
        "meeting",
        date(2026, 3, 10),
        time(14, 0),
        "Europe/Berlin",
    )
    assert (meeting.title, meeting.people, meeting.confidence) == ("Brand workshop", ["Pat Keller"], 0.95)
    assert meeting.evidence == "Invitation: Brand workshop, Tue 10 Mar 2026 14:00 (Europe/Berlin)"
    assert meeting.invitation is not None and (meeting.invitation.uid, meeting.invitation.method) == (
        "uid-1@example.test",
        "REQUEST",
    )
    assert [(e.kind, e.date) for e in rest] == [("deadline", date(2026, 3, 6))]
    assert extraction.notes == []


def test_a_sentence_on_the_invited_meetings_old_day_is_dropped_too():
    known = EventRef(
        id=7,
        kind="meeting",
        title="Brand workshop",
        date=date(2026, 3, 10),
        project_id=1,
        ical_uid="uid-1@example.test",
    )
    moved = event("DTSTART;TZID=Europe/Berlin:20260312T150000", SEQUENCE="1")
    text = "Tuesday 10 March no longer works for us, so the workshop is now on Thursday 12 March at 3pm.\n"
    extraction = rules.extract(email_input(text, [calendar(moved)]), Context(recent_events=[known]))
    assert [(e.kind, e.date, e.evidence.split(":")[0]) for e in extraction.events] == [
        ("meeting", date(2026, 3, 12), "Invitation")
    ]


def test_a_cancellation_the_timeline_knows_only_by_its_day_names_that_meeting():
    by_day = EventRef(id=9, kind="meeting", title="Brand workshop at HQ", date=date(2026, 3, 10), project_id=1)
    extraction = rules.extract(
        email_input("The workshop is off.\n", [calendar(event(), method="CANCEL")], subject="Canceled: Brand workshop"),
        Context(recent_events=[by_day]),
    )
    (cancel,) = extraction.events
    assert (cancel.update_action, cancel.updates_event_id) == ("cancel", 9)
    assert cancel.evidence == "Cancelled: Brand workshop, Tue 10 Mar 2026 14:00 (Europe/Berlin)"


def test_a_reply_is_its_answer_and_not_a_decision():
    attendee = "ATTENDEE;CN=Sam Lee;PARTSTAT=DECLINED:mailto:sam@harbourfoods.example"
    extraction = rules.extract(
        email_input("Sam Lee has declined your invitation.\n", [calendar(event() + "\n" + attendee, method="REPLY")]),
        Context(),
    )
    (reply,) = extraction.events
    assert reply.invitation is not None and reply.invitation.answers == [("Sam Lee", "declined")]
    assert reply.evidence == "Reply to “Brand workshop”: Sam Lee declined"


def test_a_malformed_calendar_is_a_note_and_the_sentences_still_count():
    extraction = rules.extract(
        email_input("The site visit is on 20 March 2026 at 11:00.\n", ["BEGIN:VCALENDAR\r\ngarbage"]), Context()
    )
    assert [(e.kind, e.date) for e in extraction.events] == [("meeting", date(2026, 3, 20))]
    assert len(extraction.notes) == 1 and extraction.notes[0].startswith("Calendar invitation not read")


# -- The Claude provider ------------------------------------------------------------------------


def test_the_prompt_gives_the_invitations_as_authoritative_data():
    from extraction.prompt import SYSTEM_PROMPT, user_message
    from extraction.text import prepare

    email = email_input("See you there.\n", [calendar(event(LOCATION="Harbour Foods HQ"))])
    message = user_message(email, Context(), prepare(email))

    assert '"invitations" in <email_meta>' in SYSTEM_PROMPT and "authoritative" in SYSTEM_PROMPT
    assert (
        '"invitations": [{"method": "REQUEST", "summary": "Brand workshop", "date": "2026-03-10", "time": "14:00", '
        '"timezone": "Europe/Berlin", "location": "Harbour Foods HQ", "repeats": "", "people": [], "answers": []}]'
    ) in message
    assert '"invitations"' not in user_message(email_input("Hi.\n", []), Context(), prepare(email_input("Hi.\n", [])))


def test_with_claude_a_malformed_calendar_is_still_a_note(settings):
    from unittest import mock

    from extraction.api import extract
    from extraction.types import Extraction, ProjectDecision

    settings.ANTHROPIC_API_KEY = "sk-test"
    answer = Extraction(project=ProjectDecision(action="none"), events=[], summary="", usage=[], provider="anthropic")
    with mock.patch("extraction.providers.anthropic.extract", autospec=True, return_value=answer):
        result = extract(email_input("Hi.\n", ["garbage"]), Context(), provider="anthropic", client=object())

    assert len(result.notes) == 1 and result.notes[0].startswith("Calendar invitation not read")
