"""Calendar invitations through the real pipeline: `ingest_eml --sync` on the Google-, Outlook- and
Apple-shaped messages of tests/data/calendar, with the offline rules provider."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context, tenant_context

from events.ingest import message_parse, parse_bytes
from events.models import Email, EmailLog, EmailState, Event, EventHistory, EventStatus
from events.processing import email_reprocess
from projects.models import Project, ProjectSignal
from tests.factories import ProjectFactory

DATA = Path(__file__).resolve().parent.parent / "data" / "calendar"
WORKSHOP_UID = "7kq3m2v9b8c1workshop@google.com"
OUTLOOK_UID = (
    "040000008200E00074C5B7101A82E00800000000B0E6A1C2F4A8DC01000000000000000010000000C6A5D2E1F0B3B94AA6E1F2C3D4E5F607"
)


SENDERS = ("pat@harbourfoods.example", "jonas.weber@harbourfoods.example", "sam@harbourfoods.example")


@pytest.fixture
def harbour_unfiled(world) -> Project:
    """The client's one project, which a new subject from the client does not file in by itself."""
    return ProjectFactory(
        name="Harbour Foods rebrand", client_name="Harbour Foods", client_email="pat@harbourfoods.example"
    )


@pytest.fixture
def harbour(harbour_unfiled) -> Project:
    """The same project, with the client's people taught by earlier filing: their mail goes there."""
    for sender in SENDERS:
        ProjectSignal.objects.create(project=harbour_unfiled, kind="sender", value=sender)
    return harbour_unfiled


def feed(*names: str, raw: bytes | None = None, tmp_path: Path | None = None) -> str:
    paths = [str(DATA / f"{name}.eml") for name in names]
    if raw is not None:
        assert tmp_path is not None
        path = tmp_path / "message.eml"
        path.write_bytes(raw)
        paths.append(str(path))
    out = StringIO()
    call_command(
        "ingest_eml", "--org", "testorg", "--sync", "--skip-sender-check", *paths, stdout=out, stderr=StringIO()
    )
    return out.getvalue()


def email_of(org, subject_start: str) -> Email:
    with schema_context(org.schema_name):
        return Email.objects.get(subject__startswith=subject_start)


def meetings(org, **filters) -> list[Event]:
    with schema_context(org.schema_name):
        return list(Event.objects.filter(kind="meeting", deleted_at__isnull=True, **filters).order_by("pk"))


def history(org, event: Event) -> list[str]:
    with schema_context(org.schema_name):
        return list(EventHistory.objects.filter(event=event).values_list("action", flat=True))


def resent(name: str, message_id: str) -> bytes:
    """The same message again under another Message-ID (a second copy from another mailbox)."""
    raw = (DATA / f"{name}.eml").read_bytes()
    start = raw.index(b"Message-ID: <") + len(b"Message-ID: ")
    end = raw.index(b">", start) + 1
    return raw[:start] + message_id.encode() + raw[end:]


def test_a_google_invitation_is_a_meeting_at_the_organizers_local_time(world, harbour):
    assert "processed → processed 1" in feed("google_request")

    (meeting,) = meetings(world.org)
    assert (meeting.date, meeting.time, meeting.timezone) == (dt.date(2026, 3, 10), dt.time(14, 0), "Europe/Berlin")
    assert meeting.title == "Brand workshop"
    assert meeting.project_id == harbour.pk
    assert meeting.people == ["Pat Keller", "owner@testorg.test", "Sam Lee"]
    assert meeting.evidence == "Invitation: Brand workshop, Tue 10 Mar 2026 14:00 (Europe/Berlin)"
    assert meeting.description == "Where: Harbour Foods HQ, Kaistraße 12, Hamburg"
    assert (meeting.ical_uid, meeting.ical_sequence, meeting.status) == (WORKSHOP_UID, 0, EventStatus.ACTIVE)


def test_the_inline_calendar_part_is_kept_beside_googles_invite_ics(world, harbour):
    feed("google_request")
    email = email_of(world.org, "Invitation: Brand workshop")
    with schema_context(world.org.schema_name):
        stored = sorted((a.filename, a.content_type) for a in email.attachments.all())
    assert stored == [("invite.ics", "application/ics"), ("invite.ics", "text/calendar")]


def test_the_invitation_wins_over_the_sentence_about_the_same_meeting(world, harbour):
    # The body says "Let's meet for the brand workshop on Tuesday 10 March at 2pm": one meeting, not two.
    feed("google_request")
    assert [m.evidence.split(":")[0] for m in meetings(world.org)] == ["Invitation"]


def test_a_higher_sequence_moves_the_meeting_with_history(world, harbour):
    feed("google_request", "google_update")

    first, moved = meetings(world.org, ical_uid=WORKSHOP_UID)
    assert (first.status, first.superseded_by_id) == (EventStatus.SUPERSEDED, moved.pk)
    assert history(world.org, first) == ["created", "rescheduled"]
    assert (moved.status, moved.date, moved.time, moved.ical_sequence) == (
        EventStatus.ACTIVE,
        dt.date(2026, 3, 12),
        dt.time(15, 0),
        1,
    )
    assert moved.email == email_of(world.org, "Updated invitation")
    # The update's own sentences ("moved the workshop to Thursday 12 March at 3pm") add nothing.
    assert [m.pk for m in meetings(world.org, status=EventStatus.ACTIVE)] == [moved.pk]


def test_an_older_sequence_changes_nothing_and_the_same_one_confirms(world, harbour, tmp_path):
    feed("google_request", "google_update")
    feed(raw=resent("google_request", "<late-copy@google.com>"), tmp_path=tmp_path)
    (active,) = meetings(world.org, status=EventStatus.ACTIVE)
    assert active.date == dt.date(2026, 3, 12)
    assert history(world.org, active) == ["created"]

    feed(raw=resent("google_update", "<second-copy@google.com>"), tmp_path=tmp_path)
    (active,) = meetings(world.org, status=EventStatus.ACTIVE)
    assert history(world.org, active) == ["created", "confirmed"]


def test_an_outlook_invitation_in_a_windows_zone_and_its_cancellation(world, harbour):
    feed("outlook_request")
    (meeting,) = meetings(world.org, ical_uid=OUTLOOK_UID)
    assert (meeting.date, meeting.time, meeting.timezone) == (dt.date(2026, 3, 17), dt.time(9, 30), "Europe/Berlin")
    assert (meeting.title, meeting.people) == ("Packaging review", ["Jonas Weber", "Owner Testorg"])

    feed("outlook_cancel")
    (meeting,) = meetings(world.org, ical_uid=OUTLOOK_UID)
    assert (meeting.status, meeting.ical_sequence) == (EventStatus.CANCELLED, 1)
    assert history(world.org, meeting) == ["created", "cancelled"]
    assert meetings(world.org, status=EventStatus.ACTIVE) == []


def test_a_cancellation_of_a_meeting_the_timeline_never_had_adds_nothing(world, harbour):
    feed("outlook_cancel")
    assert email_of(world.org, "Canceled: Packaging review").state == EmailState.PROCESSED
    assert meetings(world.org) == []


def test_a_reply_records_the_attendees_answer_on_the_meeting(world, harbour):
    feed("google_request", "google_update", "apple_reply")

    (active,) = meetings(world.org, status=EventStatus.ACTIVE)
    assert active.date == dt.date(2026, 3, 12)
    reply = email_of(world.org, "Accepted: Brand workshop")
    with schema_context(world.org.schema_name):
        answered = EventHistory.objects.get(event=active, action="replied")
        assert not Event.objects.filter(email=reply).exists()
    assert (answered.email_id, answered.after) == (reply.pk, {"answers": [["Sam Lee", "accepted"]]})
    assert answered.note == "Reply to “Brand workshop”: Sam Lee accepted"


def test_processing_a_reply_again_answers_once(world, harbour):
    feed("google_request", "apple_reply")
    reply = email_of(world.org, "Accepted: Brand workshop")
    email_reprocess(schema_name=world.org.schema_name, email_id=reply.pk)
    with schema_context(world.org.schema_name):
        from events.processing import email_process

        email_process(schema_name=world.org.schema_name, email_id=reply.pk)
        assert EventHistory.objects.filter(action="replied").count() == 1


def test_processing_an_update_again_gives_the_same_timeline(world, harbour):
    feed("google_request", "google_update")
    update = email_of(world.org, "Updated invitation")
    with schema_context(world.org.schema_name):
        from events.processing import email_process

        email_reprocess(schema_name=world.org.schema_name, email_id=update.pk)
        email_process(schema_name=world.org.schema_name, email_id=update.pk)
    first, *_, moved = meetings(world.org, ical_uid=WORKSHOP_UID)
    assert first.status == EventStatus.SUPERSEDED
    (active,) = meetings(world.org, status=EventStatus.ACTIVE)
    assert (active.pk, active.date) == (moved.pk, dt.date(2026, 3, 12))


def test_a_weekly_series_shows_its_next_occurrence_and_says_it_repeats(world, harbour):
    # Sent on Wednesday 4 March; Tuesday 10 March is an exception (EXDATE), so the next is the 17th.
    feed("google_series")
    (series,) = meetings(world.org)
    assert (series.date, series.time, series.timezone) == (dt.date(2026, 3, 17), dt.time(10, 0), "Europe/Berlin")
    assert series.title == "Harbour Foods weekly check-in (repeats weekly)"
    assert series.description == "Where: Google Meet\nRepeats weekly."


def test_a_utc_start_is_shown_in_the_senders_offset_on_its_local_date(world, harbour):
    # 23:00 UTC on 12 March is 10:00 on Friday 13 March for the sender in Sydney (+11:00).
    feed("utc_start")
    (call,) = meetings(world.org)
    assert (call.date, call.time, call.timezone) == (dt.date(2026, 3, 13), dt.time(10, 0), "Etc/GMT-11")
    assert call.title == "Supplier call with the Sydney packer"


def test_a_malformed_calendar_is_logged_and_the_rest_of_the_email_is_processed(world, harbour):
    feed("malformed")
    email = email_of(world.org, "Site visit at the Harbour Foods plant")
    assert email.state == EmailState.PROCESSED
    with schema_context(world.org.schema_name):
        logged = list(EmailLog.objects.filter(email=email).values_list("message", flat=True))
    assert "Calendar invitation not read: “Site visit” in the calendar has no readable start." in logged
    (visit,) = meetings(world.org)
    assert (visit.date, visit.time, visit.ical_uid) == (dt.date(2026, 3, 20), dt.time(11, 0), "")


def test_an_update_for_a_known_meeting_is_filed_with_it_whatever_the_subject_says(world, harbour, tmp_path):
    feed("google_request")
    other = ProjectFactory(name="Other client", client_email="someone@elsewhere.example")
    raw = resent("google_update", "<moved-elsewhere@google.com>").replace(
        b"pat@harbourfoods.example", b"someone@elsewhere.example"
    )
    feed(raw=raw, tmp_path=tmp_path)
    (active,) = meetings(world.org, status=EventStatus.ACTIVE)
    assert (active.date, active.project_id) == (dt.date(2026, 3, 12), harbour.pk)
    assert other.pk != harbour.pk


def test_a_calendar_sent_as_a_body_part_does_not_change_a_derived_message_id():
    def message(with_calendar: bool) -> bytes:
        mail = EmailMessage()
        mail["From"] = "pat@harbourfoods.example"
        mail["Subject"] = "Workshop"
        mail["Date"] = "Mon, 02 Mar 2026 09:12:04 +0100"
        mail.set_content("See you there.\n")
        if with_calendar:
            mail.add_alternative(
                "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", subtype="calendar", params={"method": "REQUEST"}
            )
        return mail.as_bytes()

    plain, invited = (message_parse(parse_bytes(message(flag))) for flag in (False, True))
    assert [a.filename for a in invited.attachments] == ["invite.ics"]
    assert invited.message_id == plain.message_id


def test_an_unfiled_invitation_keeps_its_uid_when_a_person_files_it(world, harbour_unfiled):
    from events.filing import email_file
    from events.models import FilingState

    feed("google_request")
    email = email_of(world.org, "Invitation: Brand workshop")
    assert (email.filing, meetings(world.org)) == (FilingState.UNFILED, [])
    with tenant_context(world.org):
        email_file(email=email, project=harbour_unfiled, actor=world.member)
    (meeting,) = meetings(world.org)
    assert (meeting.ical_uid, meeting.ical_sequence, meeting.date) == (WORKSHOP_UID, 0, dt.date(2026, 3, 10))

    # The update finds the meeting by its UID, and its email goes where the meeting is.
    feed("google_update")
    (active,) = meetings(world.org, status=EventStatus.ACTIVE)
    assert (active.date, active.project_id) == (dt.date(2026, 3, 12), harbour_unfiled.pk)
    assert email_of(world.org, "Updated invitation").project_id == harbour_unfiled.pk


def test_the_worker_reads_the_calendars_the_claim_names_without_more_queries(org):
    from decimal import Decimal
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from events.processing import email_process
    from extraction.types import Extraction, ProjectDecision, Usage
    from tests.factories import AttachmentFactory, EmailFactory

    calendar = (DATA / "utc_start.eml").read_bytes().split(b"\r\n\r\nBEGIN:VCALENDAR")[1].split(b"END:VCALENDAR")[0]
    calendar = b"BEGIN:VCALENDAR" + calendar + b"END:VCALENDAR\r\n"
    nothing = Extraction(
        project=ProjectDecision(action="none"),
        events=[],
        summary="",
        usage=[Usage(provider="rules", cost_usd=Decimal("0"))],
        provider="rules",
    )

    def processed(email: Email) -> tuple[list[str], list[str]]:
        with (
            CaptureQueriesContext(connection) as captured,
            mock.patch("events.processing.extract", autospec=True, return_value=nothing) as extract,
        ):
            email_process(schema_name=org.schema_name, email_id=email.pk)
        sql = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET search_path")]
        return sql, extract.call_args.args[0].calendars

    invited, plain = (EmailFactory(state=EmailState.QUEUED, project=None) for _ in range(2))
    AttachmentFactory(email=invited, filename="Supplier call.ics", content_type="text/calendar", file__data=calendar)
    AttachmentFactory(email=invited, filename="invite.ics", content_type="application/ics", file__data=calendar)
    AttachmentFactory(email=plain, filename="plan.pdf")
    processed(EmailFactory(state=EmailState.QUEUED, project=None))  # warm caches that are not per email

    invited_sql, calendars = processed(invited)
    plain_sql, none = processed(plain)
    assert (calendars, none) == ([calendar.decode()], [])  # the same calendar twice is read once
    assert len(invited_sql) == len(plain_sql)


def test_a_meeting_moved_by_a_sentence_is_still_found_by_the_next_invitation(world, harbour, tmp_path):
    feed("google_request")
    note = EmailMessage()
    note["From"] = "Pat Keller <pat@harbourfoods.example>"
    note["To"] = "owner@testorg.test, testorg@in.localhost"
    note["Subject"] = "Brand workshop"
    note["Date"] = "Tue, 03 Mar 2026 10:00:00 +0100"
    note["Message-ID"] = "<moved-by-hand@harbourfoods.example>"
    note.set_content("Hi,\n\nThe brand workshop has been moved to Wednesday 11 March at 10:00.\n\nPat\n")
    feed(raw=note.as_bytes(), tmp_path=tmp_path)
    (by_hand,) = meetings(world.org, status=EventStatus.ACTIVE)
    assert (by_hand.date, by_hand.ical_uid, by_hand.ical_sequence) == (dt.date(2026, 3, 11), WORKSHOP_UID, 0)

    feed("google_update")
    (active,) = meetings(world.org, status=EventStatus.ACTIVE)
    assert (active.date, active.ical_sequence) == (dt.date(2026, 3, 12), 1)
    by_hand.refresh_from_db()
    assert (by_hand.status, by_hand.superseded_by_id) == (EventStatus.SUPERSEDED, active.pk)
