from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from organizations.handoff import handoff_token_create


def open_workspace(public_client: Client, slug: str) -> str:
    response = public_client.post(f"/workspaces/{slug}/open/")
    assert response.status_code == 302
    return response["Location"]


def test_the_public_host_lists_the_users_workspaces(world, public_client):
    public_client.force_login(world.member)
    response = public_client.get("/workspaces/")
    assert response.status_code == 200
    assert world.org.name in response.content.decode()
    assert "Other Org" not in response.content.decode()


def test_opening_a_workspace_signs_the_user_in_there_without_a_password(world, public_client):
    public_client.force_login(world.member)
    location = open_workspace(public_client, world.org.slug)
    assert location.startswith(world.org.absolute_url("/handoff/"))
    workspace = Client(HTTP_HOST=world.org.host)
    response = workspace.get(location.split(world.org.host, 1)[1])
    assert response.status_code == 302
    assert workspace.session[SESSION_KEY] == str(world.member.pk)
    assert workspace.get("/projects/").status_code == 200


def test_a_user_cannot_open_a_workspace_they_do_not_belong_to(world, public_client):
    public_client.force_login(world.outsider)
    assert public_client.post(f"/workspaces/{world.org.slug}/open/").status_code == 404


def test_a_handoff_token_works_only_once(world):
    token = handoff_token_create(user=world.member, organization=world.org)
    first = Client(HTTP_HOST=world.org.host).get(f"/handoff/{token}/")
    assert first.status_code == 302
    second_client = Client(HTTP_HOST=world.org.host)
    second = second_client.get(f"/handoff/{token}/")
    assert second.status_code == 403
    assert "already used" in second.content.decode()
    assert SESSION_KEY not in second_client.session


def test_an_expired_handoff_token_is_refused(world):
    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        token = handoff_token_create(user=world.member, organization=world.org)
    with time_machine.travel(start + timedelta(seconds=settings.HANDOFF_TOKEN_MAX_AGE + 5), tick=False):
        response = Client(HTTP_HOST=world.org.host).get(f"/handoff/{token}/")
    assert response.status_code == 403
    assert "expired" in response.content.decode()


def test_a_handoff_token_for_another_workspace_is_refused(world, other_org):
    token = handoff_token_create(user=world.outsider, organization=other_org)
    client = Client(HTTP_HOST=world.org.host)
    response = client.get(f"/handoff/{token}/")
    assert response.status_code == 403
    assert SESSION_KEY not in client.session


def test_a_handoff_token_is_refused_when_someone_else_is_signed_in(world, client_as):
    token = handoff_token_create(user=world.member, organization=world.org)
    client = client_as(world.viewer)
    response = client.get(f"/handoff/{token}/")
    assert response.status_code == 403
    assert client.session[SESSION_KEY] == str(world.viewer.pk)


def test_a_tampered_handoff_token_is_refused(world):
    token = handoff_token_create(user=world.member, organization=world.org)
    response = Client(HTTP_HOST=world.org.host).get(f"/handoff/{token[:-2]}xx/")
    assert response.status_code == 403


def test_a_handoff_token_of_a_removed_member_is_refused(world):
    token = handoff_token_create(user=world.member, organization=world.org)
    world.member.memberships.all().delete()
    response = Client(HTTP_HOST=world.org.host).get(f"/handoff/{token}/")
    assert response.status_code == 403
