"""Secret-token iCalendar feeds: no session needed, wrong or revoked tokens find nothing."""

import datetime as dt

import icalendar
from django.urls import reverse

from organizations.models import Organization
from projects.services import organization_feed_rotate, project_feed_rotate
from tests.factories import EventFactory, ProjectFactory


def test_a_project_feed_serves_its_active_dated_events_to_anyone_with_the_token(world, workspace_client):
    project = ProjectFactory(name="Kitchen")
    EventFactory(project=project, title="Handover", date=dt.date(2026, 12, 10))
    EventFactory(title="Other project", date=dt.date(2026, 12, 11))
    project_feed_rotate(project=project, actor=None)
    response = workspace_client.get(reverse("feeds:project", args=[project.code, project.feed_token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    assert [str(e["summary"]) for e in cal.walk("VEVENT")] == ["Handover"]
    assert str(cal["x-wr-calname"]).startswith("Kitchen")
    assert f"/projects/{project.code}/" in str(cal.walk("VEVENT")[0]["url"])


def test_a_wrong_empty_or_revoked_token_finds_nothing(world, workspace_client):
    project = ProjectFactory()
    assert workspace_client.get(reverse("feeds:project", args=[project.code, "x"])).status_code == 404
    project_feed_rotate(project=project, actor=None)
    old = project.feed_token
    wrong = old[:-1] + ("B" if old.endswith("A") else "A")  # one character off, never the token itself
    assert workspace_client.get(reverse("feeds:project", args=[project.code, wrong])).status_code == 404
    project_feed_rotate(project=project, actor=None)
    assert workspace_client.get(reverse("feeds:project", args=[project.code, old])).status_code == 404
    project_feed_rotate(project=project, actor=None, revoke=True)
    assert project.feed_token == ""
    assert workspace_client.get(reverse("feeds:project", args=[project.code, old])).status_code == 404


def test_a_project_token_does_not_open_another_project(world, workspace_client):
    a, b = ProjectFactory(), ProjectFactory()
    project_feed_rotate(project=a, actor=None)
    assert workspace_client.get(reverse("feeds:project", args=[b.code, a.feed_token])).status_code == 404


def test_the_organization_feed_holds_every_project(world, workspace_client, client_as):
    EventFactory(project=ProjectFactory(name="A"), title="One", date=dt.date(2026, 12, 1))
    EventFactory(project=ProjectFactory(name="B"), title="Two", date=dt.date(2026, 12, 2))
    organization = Organization.objects.get(pk=world.org.pk)
    assert workspace_client.get(reverse("feeds:organization", args=["anything"])).status_code == 404
    organization_feed_rotate(organization=organization, actor=None)
    response = workspace_client.get(reverse("feeds:organization", args=[organization.feed_token]))
    summaries = sorted(str(e["summary"]) for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT"))
    assert summaries == ["One (A)", "Two (B)"]
    # A signed-in member of another workspace may use a feed link too: the token is the key.
    assert (
        client_as(world.outsider).get(reverse("feeds:organization", args=[organization.feed_token])).status_code == 200
    )


def test_another_workspaces_token_does_not_work_here(world, workspace_client, other_org):
    organization_feed_rotate(organization=other_org, actor=None)
    assert workspace_client.get(reverse("feeds:organization", args=[other_org.feed_token])).status_code == 404


def test_suggestions_are_on_no_feed_until_someone_accepts_them(world, workspace_client):
    from events.services import event_suggestion_accept

    project = ProjectFactory(name="Kitchen")
    EventFactory(project=project, title="Handover", date=dt.date(2026, 12, 10))
    maybe = EventFactory(project=project, title="Maybe a walk-through", date=dt.date(2026, 12, 11), suggested=True)
    project_feed_rotate(project=project, actor=None)
    organization = Organization.objects.get(pk=world.org.pk)
    organization_feed_rotate(organization=organization, actor=None)

    def summaries():
        project_feed = workspace_client.get(reverse("feeds:project", args=[project.code, project.feed_token]))
        organization_feed = workspace_client.get(reverse("feeds:organization", args=[organization.feed_token]))
        return [
            [str(e["summary"]) for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT")]
            for response in (project_feed, organization_feed)
        ]

    assert summaries() == [["Handover"], ["Handover (Kitchen)"]]
    event_suggestion_accept(event=maybe, actor=world.member)
    assert summaries() == [
        ["Handover", "Maybe a walk-through"],
        ["Handover (Kitchen)", "Maybe a walk-through (Kitchen)"],
    ]
