"""A session signed in on one host does not sign anyone in on another: a workspace needs the
hand-off (or a sign-in on its own host), even with the public host's session cookie in hand."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.conftest import make_user

PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def person(world):
    user = make_user("traveller@testorg.test", password=PASSWORD)
    world.org.memberships.create(user=user, role="member")
    return user


def signed_in_on(host: str, email: str) -> Client:
    client = Client(HTTP_HOST=host)
    assert client.post("/accounts/login/", {"login": email, "password": PASSWORD}).status_code == 302
    return client


def with_cookie_of(source: Client, host: str) -> Client:
    client = Client(HTTP_HOST=host)
    client.cookies[settings.SESSION_COOKIE_NAME] = source.cookies[settings.SESSION_COOKIE_NAME].value
    return client


def test_the_public_hosts_session_cookie_does_not_sign_in_on_a_workspace_host(world, person):
    public = signed_in_on("localhost", person.email)
    assert public.get("/workspaces/").status_code == 200

    copied = with_cookie_of(public, world.org.host)
    response = copied.get("/projects/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    # The session still works where it was made.
    assert public.get("/workspaces/").status_code == 200


def test_a_workspace_session_does_not_sign_in_on_another_workspace_or_the_public_host(world, person, other_org):
    other_org.memberships.create(user=person, role="member")
    workspace = signed_in_on(world.org.host, person.email)
    assert workspace.get("/projects/").status_code == 200

    assert with_cookie_of(workspace, other_org.host).get("/projects/").status_code == 302
    assert with_cookie_of(workspace, "localhost").get("/workspaces/").status_code == 302


def test_the_hand_off_signs_in_on_the_workspace_host_beside_the_public_session(world, person):
    public = signed_in_on("localhost", person.email)
    location = public.post(f"/workspaces/{world.org.slug}/open/")["Location"]

    workspace = with_cookie_of(public, world.org.host)  # the stray cookie does not get in the way
    assert workspace.get(urlsplit(location).path).status_code == 302
    assert workspace.session[SESSION_KEY] == str(person.pk)
    assert workspace.get("/projects/").status_code == 200
    assert public.get("/workspaces/").status_code == 200
