"""Each member has their own calendar feed of every project; it leaves with them, and the shared
address changes when anyone leaves, so a removed member keeps no feed."""

from __future__ import annotations

import datetime as dt

import icalendar
from django.urls import reverse

from organizations.models import Membership, Organization
from projects.services import organization_feed_rotate
from tests.factories import EventFactory, ProjectFactory


def feed(client, token: str) -> int:
    return int(client.get(reverse("feeds:organization", args=[token])).status_code)


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

    membership = Membership.objects.get(user=world.member, organization=world.org)
    response = client_as(world.admin).post(reverse("workspace:member_remove", args=[membership.pk]))
    assert response.status_code == 302

    assert feed(workspace_client, leaving) == 404
    assert feed(workspace_client, shared) == 404
    new_shared = Organization.objects.get(pk=world.org.pk).feed_token
    assert new_shared not in ("", shared)
    assert feed(workspace_client, new_shared) == 200
    assert feed(workspace_client, staying) == 200


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
