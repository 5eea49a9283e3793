import datetime as dt

from events.models import EmailState
from events.selectors import (
    TimelineFilter,
    cursor_decode,
    cursor_encode,
    evidence_split,
    held_email_count,
    timeline_page,
)
from tests.factories import EmailFactory, EventFactory, ProjectFactory


def test_a_cursor_round_trips_and_a_tampered_one_is_rejected(org):
    event = EventFactory(date=None, time=None)
    assert cursor_decode(cursor_encode(event)) == (dt.date(9999, 12, 31), dt.time(0, 0), event.pk)
    assert cursor_decode("") is None
    assert cursor_decode("%%%") is None
    assert cursor_decode("YWJj") is None  # "abc"


def test_pages_cover_every_event_once_in_order_across_equal_dates_and_undated_ones(org):
    project = ProjectFactory()
    days = [dt.date(2026, 5, 1), dt.date(2026, 5, 1), None, dt.date(2026, 4, 30), None, dt.date(2026, 5, 1)]
    for i, day in enumerate(days):
        EventFactory(project=project, title=f"E{i}", date=day, time=dt.time(9, 0) if i == 5 else None)
    seen, cursor, pages = [], "", 0
    while True:
        page = timeline_page(project=project, filters=TimelineFilter(), cursor=cursor, size=2)
        seen += [e.title for g in page.groups for e in g.events]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ["E3", "E0", "E1", "E5", "E2", "E4"]
    assert pages == 3


def test_a_page_that_continues_a_month_says_so(org):
    project = ProjectFactory()
    for i in range(3):
        EventFactory(project=project, date=dt.date(2026, 5, 1 + i))
    first = timeline_page(project=project, filters=TimelineFilter(), size=2)
    second = timeline_page(project=project, filters=TimelineFilter(), cursor=first.next_cursor, size=2)
    assert [g.continued for g in first.groups] == [False]
    assert [g.continued for g in second.groups] == [True]


def test_deleted_events_are_left_out(org):
    project = ProjectFactory()
    EventFactory(project=project, deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert timeline_page(project=project, filters=TimelineFilter()).count == 0


def test_evidence_is_found_across_line_breaks_and_case():
    text = "Hi,\nthe Site meeting is\n on Friday.\nBye"
    assert evidence_split(text, "The site meeting is on Friday.") == (
        "Hi,\n",
        "the Site meeting is\n on Friday.",
        "\nBye",
    )
    assert evidence_split(text, "Not there") is None
    assert evidence_split(text, "  ") is None
    assert evidence_split("", "x") is None


def test_held_email_count_counts_held_mail_only(org):
    EmailFactory(state=EmailState.HELD, project=None)
    EmailFactory(state=EmailState.HELD, project=None)
    EmailFactory(state=EmailState.FAILED, project=None)
    EmailFactory(state=EmailState.PROCESSED)
    assert held_email_count() == 2


# --- the "today" line ---------------------------------------------------------------------------

TODAY = dt.date(2026, 12, 9)


def today_line(page):
    """Where the page draws the line: (before event title | 'before <month>' | 'end' | None)."""
    for group in page.groups:
        if group.today_first:
            return f"before {group.key}"
        for event in group.events:
            if event.pk == page.today_before:
                return event.title
    return "end" if page.today_at_end else None


def test_the_today_line_goes_before_the_first_event_of_today_or_later(org):
    project = ProjectFactory()
    EventFactory(project=project, title="Yesterday", date=TODAY - dt.timedelta(days=1))
    EventFactory(project=project, title="Today", date=TODAY)
    EventFactory(project=project, title="Undated", date=None)
    page = timeline_page(project=project, filters=TimelineFilter(), today=TODAY)
    assert today_line(page) == "Today"


def test_the_today_line_goes_between_the_months_when_today_s_month_has_no_events(org):
    project = ProjectFactory()
    EventFactory(project=project, title="November", date=dt.date(2026, 11, 20))
    EventFactory(project=project, title="January", date=dt.date(2027, 1, 5))
    page = timeline_page(project=project, filters=TimelineFilter(), today=TODAY)
    assert today_line(page) == "before 2027-01"


def test_the_today_line_comes_last_when_every_dated_event_is_past(org):
    project = ProjectFactory()
    EventFactory(project=project, title="Past", date=TODAY - dt.timedelta(days=3))
    assert today_line(timeline_page(project=project, filters=TimelineFilter(), today=TODAY)) == "end"
    EventFactory(project=project, title="Undated", date=None)
    assert today_line(timeline_page(project=project, filters=TimelineFilter(), today=TODAY)) == "before undated"


def test_a_timeline_of_undated_events_only_has_no_today_line(org):
    project = ProjectFactory()
    EventFactory(project=project, date=None)
    assert today_line(timeline_page(project=project, filters=TimelineFilter(), today=TODAY)) is None


def test_the_today_line_is_drawn_once_across_pages(org):
    project = ProjectFactory()
    for offset in (-3, -2, -1, 1, 2, 3):
        EventFactory(project=project, title=f"{offset:+d}", date=TODAY + dt.timedelta(days=offset))
    lines, cursor = [], ""
    while True:
        page = timeline_page(project=project, filters=TimelineFilter(), cursor=cursor, size=2, today=TODAY)
        lines.append(today_line(page))
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert lines == [None, "+1", None]
