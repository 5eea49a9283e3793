"""events.selectors_agenda: what the agenda shows, in which section and day, and what it leaves out."""

import datetime as dt

import pytest

from events.models import EventKind, EventStatus, FilingState
from events.selectors_agenda import AgendaFilter, agenda, week_bounds
from projects.models import ProjectStatus
from tests.factories import EmailFactory, EventFactory, ProjectFactory

WEDNESDAY = dt.date(2026, 12, 9)


def day(offset):
    return WEDNESDAY + dt.timedelta(days=offset)


def sections(result):
    return {s.key: [e.title for d in s.days for e in d.events] for s in result.sections}


@pytest.fixture
def project(org):
    return ProjectFactory(name="Kitchen refit")


def test_weeks_run_monday_to_sunday():
    assert week_bounds(WEDNESDAY) == (dt.date(2026, 12, 13), dt.date(2026, 12, 14), dt.date(2026, 12, 20))
    assert week_bounds(dt.date(2026, 12, 13)) == (dt.date(2026, 12, 13), dt.date(2026, 12, 14), dt.date(2026, 12, 20))


def test_it_puts_each_event_in_overdue_today_this_week_or_next_week(project):
    EventFactory(project=project, kind=EventKind.DEADLINE, title="Drawings due", date=day(-3))
    EventFactory(project=project, title="Site visit", date=day(0))
    EventFactory(project=project, title="Tiles arrive", date=day(4))  # Sunday
    EventFactory(project=project, title="Handover", date=day(5))  # next Monday
    EventFactory(project=project, title="Snagging", date=day(11))  # next Sunday
    EventFactory(project=project, title="Too far", date=day(12))
    result = agenda(filters=AgendaFilter(), today=WEDNESDAY)
    assert sections(result) == {
        "overdue": ["Drawings due"],
        "today": ["Site visit"],
        "this_week": ["Tiles arrive"],
        "next_week": ["Handover", "Snagging"],
    }
    assert result.count == 5


def test_only_undone_deadlines_milestones_action_items_and_payments_are_overdue(project):
    for kind in EventKind.values:
        EventFactory(project=project, kind=kind, title=kind, date=day(-1))
    EventFactory(project=project, kind=EventKind.PAYMENT, title="Paid deposit", date=day(-1), done=True)
    overdue = sections(agenda(filters=AgendaFilter(), today=WEDNESDAY))["overdue"]
    assert sorted(overdue) == ["action_item", "deadline", "milestone", "payment"]


def test_it_groups_by_day_with_untimed_items_first_then_by_time(project):
    EventFactory(project=project, title="Late call", date=day(1), time=dt.time(16, 0))
    EventFactory(project=project, title="Early call", date=day(1), time=dt.time(9, 0))
    EventFactory(project=project, title="All day", date=day(1))
    EventFactory(project=project, title="Friday", date=day(2))
    this_week = agenda(filters=AgendaFilter(), today=WEDNESDAY).sections[2]
    assert [(d.day, [e.title for e in d.events]) for d in this_week.days] == [
        (day(1), ["All day", "Early call", "Late call"]),
        (day(2), ["Friday"]),
    ]


def test_it_leaves_out_suggestions_cancelled_superseded_deleted_and_undated_events(project):
    EventFactory(project=project, title="Kept", date=day(1))
    EventFactory(project=project, title="Suggested", date=day(1), suggested=True)
    EventFactory(project=project, title="Cancelled", date=day(1), status=EventStatus.CANCELLED)
    EventFactory(project=project, title="Superseded", date=day(1), status=EventStatus.SUPERSEDED)
    EventFactory(project=project, title="Deleted", date=day(1), deleted_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    EventFactory(project=project, title="Undated", date=None)
    assert agenda(filters=AgendaFilter(), today=WEDNESDAY).count == 1


def test_it_leaves_out_closed_and_merged_projects_and_mail_back_in_unfiled(project):
    EventFactory(project=project, title="Open", date=day(1))
    EventFactory(project=ProjectFactory(status=ProjectStatus.ON_HOLD), title="On hold", date=day(1))
    EventFactory(project=ProjectFactory(status=ProjectStatus.COMPLETED), title="Completed", date=day(1))
    EventFactory(project=ProjectFactory(status=ProjectStatus.ARCHIVED), title="Archived", date=day(1))
    EventFactory(project=ProjectFactory(merged_into=project), title="Merged away", date=day(1))
    unfiled = EmailFactory(project=project, filing=FilingState.UNFILED)
    EventFactory(project=project, email=unfiled, title="Unfiled mail's", date=day(1))
    assert sorted(sections(agenda(filters=AgendaFilter(), today=WEDNESDAY))["this_week"]) == ["On hold", "Open"]


def test_it_filters_by_project_and_kind(project):
    other = ProjectFactory(name="Bakery")
    EventFactory(project=project, kind=EventKind.MEETING, title="Kitchen meeting", date=day(1))
    EventFactory(project=project, kind=EventKind.PAYMENT, title="Kitchen payment", date=day(1))
    EventFactory(project=other, kind=EventKind.PAYMENT, title="Bakery payment", date=day(1))

    def titles(filters):
        return sorted(sections(agenda(filters=filters, today=WEDNESDAY))["this_week"])

    assert titles(AgendaFilter(project=project.code)) == ["Kitchen meeting", "Kitchen payment"]
    assert titles(AgendaFilter(kind=EventKind.PAYMENT)) == ["Bakery payment", "Kitchen payment"]
    assert titles(AgendaFilter(project=other.code, kind=EventKind.PAYMENT)) == ["Bakery payment"]
    assert titles(AgendaFilter(kind="not-a-kind")) == ["Bakery payment", "Kitchen meeting", "Kitchen payment"]


def test_mine_is_what_names_me_or_came_from_mail_i_sent(world, project):
    world.member.first_name, world.member.last_name = "Mina", "Member"
    world.member.save()
    EventFactory(project=project, title="Names my address", date=day(1), people=["MEMBER@testorg.test"])
    EventFactory(project=project, title="Names me", date=day(1), people=["Pat", "mina member"])
    EventFactory(
        project=project, title="From my mail", date=day(1), email=EmailFactory(from_address="Member@Testorg.test")
    )
    EventFactory(project=project, title="Only my first name", date=day(1), people=["Mina"])
    EventFactory(project=project, title="Someone else's", date=day(1), people=["owner@testorg.test"])
    mine = sections(agenda(filters=AgendaFilter(mine=True), user=world.member, today=WEDNESDAY))["this_week"]
    assert sorted(mine) == ["From my mail", "Names me", "Names my address"]


def test_mine_without_a_name_on_the_account_is_my_address_only(world, project):
    EventFactory(project=project, title="Names my address", date=day(1), people=["viewer@testorg.test"])
    EventFactory(project=project, title="Names nobody", date=day(1), people=[])
    mine = sections(agenda(filters=AgendaFilter(mine=True), user=world.viewer, today=WEDNESDAY))["this_week"]
    assert mine == ["Names my address"]


def test_it_keeps_the_most_recent_overdue_items_when_there_are_too_many(project, monkeypatch):
    monkeypatch.setattr("events.selectors_agenda.AGENDA_OVERDUE_LIMIT", 3)
    for offset in range(1, 6):
        EventFactory(project=project, kind=EventKind.DEADLINE, title=f"{offset} days ago", date=day(-offset))
    overdue = agenda(filters=AgendaFilter(), today=WEDNESDAY).sections[0]
    assert [e.title for d in overdue.days for e in d.events] == ["3 days ago", "2 days ago", "1 days ago"]
    assert overdue.truncated


def test_a_done_event_this_week_stays_on_the_agenda_marked_done(project):
    EventFactory(project=project, kind=EventKind.PAYMENT, title="Paid early", date=day(1), done=True)
    [event] = agenda(filters=AgendaFilter(), today=WEDNESDAY).sections[2].days[0].events
    assert event.done
