from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.conftest import make_user

PASSWORD = "a-long-and-unusual-passphrase"


def test_the_public_host_shows_the_landing_page(public_client):
    response = public_client.get("/")
    assert response.status_code == 200
    assert "Sign in" in response.content.decode()


def test_a_workspace_host_sends_anonymous_visitors_to_its_sign_in_page(workspace_client):
    response = workspace_client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert 'name="login"' in response.content.decode()


def test_a_member_can_sign_in_directly_on_the_workspace_host(org, world):
    user = make_user("direct@testorg.test", password=PASSWORD)
    world.org.memberships.create(user=user, role="member")
    client = Client(HTTP_HOST=org.host)
    response = client.post("/accounts/login/", {"login": "direct@testorg.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.get("/projects/").status_code == 200


def test_a_wrong_password_does_not_sign_in(org, world):
    make_user("direct@testorg.test", password=PASSWORD)
    client = Client(HTTP_HOST=org.host)
    response = client.post("/accounts/login/", {"login": "direct@testorg.test", "password": "wrong-password"})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_open_sign_up_is_closed(public_client):
    response = public_client.get("/accounts/signup/")
    assert response.status_code == 200
    assert "Sign Up Closed" in response.content.decode() or "closed" in response.content.decode().lower()


def test_an_unknown_host_is_not_found(db, session_orgs):
    assert Client(HTTP_HOST="nosuchorg.localhost").get("/").status_code == 404


def test_the_template_schema_is_never_reachable(db, session_orgs):
    assert Client(HTTP_HOST="tenant-template.localhost").get("/").status_code == 404
