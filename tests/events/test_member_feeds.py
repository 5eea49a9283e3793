"""Each member has their own calendar feed of every project; it leaves with them, and the shared
addresses (the organization's, each project's) change when anyone leaves, so a removed member
keeps no feed."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import icalendar
from django.urls import reverse
from django_tenants.utils import schema_context

from organizations.models import Membership, Organization
from projects.models import Project
from projects.services import organization_feed_rotate
from tests.factories import EventFactory, ProjectFactory


def feed(client, token: str) -> int:
    return int(client.get(reverse("feeds:organization", args=[token])).status_code)


def shown_url(page: str, input_id: str) -> str:
    """The feed address a page shows in its copy field (the path: the test client picks the host)."""
    match = re.search(rf'id="{input_id}" value="([^"]+)"', page)
    assert match, f"no #{input_id} on the page"
    return urlsplit(match.group(1)).path


def remove(client_as, world, user) -> None:
    membership = Membership.objects.get(user=user, organization=world.org)
    response = client_as(world.admin).post(reverse("workspace:member_remove", args=[membership.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def my_feed_token(world, role: str) -> str:
    return Membership.objects.get(user=world.user(role), organization=world.org).feed_token


def test_every_member_creates_their_own_feed_and_it_serves_every_project(world, client_as, workspace_client):
    EventFactory(project=ProjectFactory(name="A"), title="One", date=dt.date(2026, 12, 1))
    viewer = client_as(world.viewer)
    assert viewer.post(reverse("workspace:member_feed"), {"action": "rotate"}).status_code == 302
    token = my_feed_token(world, "viewer")
    assert len(token) >= 40

    page = viewer.get(reverse("projects:list")).content.decode()
    assert f"/feeds/{token}.ics" in page
    response = workspace_client.get(reverse("feeds:organization", args=[token]))
    assert response.status_code == 200
    assert [str(e["summary"]) for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT")] == ["One (A)"]


def test_members_feeds_are_their_own(world, client_as, workspace_client):
    for role in ("member", "viewer"):
        client_as(world.user(role)).post(reverse("workspace:member_feed"), {"action": "rotate"})
    mine, theirs = my_feed_token(world, "member"), my_feed_token(world, "viewer")
    assert mine != theirs
    # Regenerating mine leaves theirs alone; revoking mine ends it.
    client_as(world.member).post(reverse("workspace:member_feed"), {"action": "rotate"})
    assert feed(workspace_client, mine) == 404
    assert feed(workspace_client, theirs) == 200
    client_as(world.member).post(reverse("workspace:member_feed"), {"action": "revoke"})
    assert my_feed_token(world, "member") == ""


def test_a_removed_member_loses_their_feed_and_the_shared_one(world, client_as, workspace_client):
    organization_feed_rotate(organization=Organization.objects.get(pk=world.org.pk), actor=None)
    shared = Organization.objects.get(pk=world.org.pk).feed_token
    client_as(world.member).post(reverse("workspace:member_feed"), {"action": "rotate"})
    client_as(world.viewer).post(reverse("workspace:member_feed"), {"action": "rotate"})
    leaving, staying = my_feed_token(world, "member"), my_feed_token(world, "viewer")
    assert feed(workspace_client, leaving) == 200
    assert feed(workspace_client, shared) == 200

    remove(client_as, world, world.member)

    assert feed(workspace_client, leaving) == 404
    assert feed(workspace_client, shared) == 404
    # The admins who stay find the new shared address on the projects page, and it works.
    new_shared = shown_url(client_as(world.admin).get(reverse("projects:list")).content.decode(), "org-feed-url")
    assert shared not in new_shared
    assert workspace_client.get(new_shared).status_code == 200
    assert feed(workspace_client, staying) == 200


def test_a_removed_member_keeps_no_project_feed_and_those_who_stay_see_the_new_addresses(
    world, client_as, workspace_client, other_org
):
    kitchen, garden, quiet = (ProjectFactory(name=name) for name in ("Kitchen", "Garden", "Quiet"))
    EventFactory(project=kitchen, title="Handover", date=dt.date(2026, 12, 10))
    # The member who will leave creates Kitchen's feed address; an admin creates Garden's.
    leaving, admin = client_as(world.member), client_as(world.admin)
    assert leaving.post(reverse("projects:feed", args=[kitchen.code]), {"action": "rotate"}).status_code == 302
    assert admin.post(reverse("projects:feed", args=[garden.code]), {"action": "rotate"}).status_code == 302
    copied = {
        project.code: shown_url(
            leaving.get(reverse("projects:edit", args=[project.code])).content.decode(), "project-feed-url"
        )
        for project in (kitchen, garden)
    }
    assert [workspace_client.get(url).status_code for url in copied.values()] == [200, 200]
    with schema_context(other_org.schema_name):
        elsewhere = ProjectFactory(name="Elsewhere", feed_token="another-workspace-feed")

    remove(client_as, world, world.member)

    assert [workspace_client.get(url).status_code for url in copied.values()] == [404, 404]
    for project in (kitchen, garden):
        page = admin.get(reverse("projects:edit", args=[project.code])).content.decode()
        url = shown_url(page, "project-feed-url")
        assert url != copied[project.code]
        assert workspace_client.get(url).status_code == 200
    handover = workspace_client.get(
        shown_url(admin.get(reverse("projects:edit", args=[kitchen.code])).content.decode(), "project-feed-url")
    )
    assert [str(e["summary"]) for e in icalendar.Calendar.from_ical(handover.content).walk("VEVENT")] == ["Handover"]
    # A project without a feed still has none, and another workspace's feeds are not touched.
    assert Project.objects.get(pk=quiet.pk).feed_token == ""
    with schema_context(other_org.schema_name):
        assert Project.objects.get(pk=elsewhere.pk).feed_token == "another-workspace-feed"


def test_a_deactivated_accounts_feed_stops(world, client_as, workspace_client):
    client_as(world.member).post(reverse("workspace:member_feed"), {"action": "rotate"})
    token = my_feed_token(world, "member")
    type(world.member).objects.filter(pk=world.member.pk).update(is_active=False)
    assert feed(workspace_client, token) == 404


def test_the_shared_address_is_shown_to_admins_only(world, client_as):
    organization_feed_rotate(organization=Organization.objects.get(pk=world.org.pk), actor=None)
    shared = Organization.objects.get(pk=world.org.pk).feed_token
    assert shared in client_as(world.admin).get(reverse("projects:list")).content.decode()
    assert shared not in client_as(world.member).get(reverse("projects:list")).content.decode()


def test_a_member_feed_token_does_not_open_another_workspace(world, client_as, other_org):
    from django.test import Client

    client_as(world.member).post(reverse("workspace:member_feed"), {"action": "rotate"})
    token = my_feed_token(world, "member")
    assert feed(Client(HTTP_HOST=other_org.host), token) == 404


def test_a_member_deleted_outside_the_team_page_loses_the_shared_feeds_too(world, workspace_client):
    organization_feed_rotate(organization=Organization.objects.get(pk=world.org.pk), actor=None)
    shared = Organization.objects.get(pk=world.org.pk).feed_token
    kitchen = ProjectFactory(name="Kitchen")
    with schema_context(world.org.schema_name):
        Project.objects.filter(pk=kitchen.pk).update(feed_token="kitchen-before")
    assert feed(workspace_client, shared) == 200

    Membership.objects.filter(user=world.member, organization=world.org).delete()  # the Django admin's way

    assert feed(workspace_client, shared) == 404
    with schema_context(world.org.schema_name):
        assert Project.objects.get(pk=kitchen.pk).feed_token not in ("", "kitchen-before")
