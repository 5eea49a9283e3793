"""CSRF protection on every kind of POST: plain forms, htmx requests (X-CSRFToken from
base.html's hx-headers) and the public host. Webhooks are exempt by design (basic auth)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import EventFactory, ProjectFactory


@pytest.fixture
def strict(world, org):
    def make(user, host=None):
        client = Client(HTTP_HOST=host or org.host, enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return make


def representative_posts(world):
    project = ProjectFactory()
    event = EventFactory(project=project)
    return [
        ("/projects/new/", {"name": "New project"}),
        (f"/projects/{project.code}/events/{event.code}/done/", {}),
        (f"/projects/{project.code}/settings/", {"name": "Renamed"}),
        ("/settings/", {"action": "add_sender", "pattern": "@client.example"}),
        ("/team/", {"email": "new@testorg.test", "role": "member"}),
        ("/billing/settings/", {}),
        ("/accounts/digest/", {}),
    ]


def test_a_post_without_a_token_is_refused(world, strict):
    client = strict(world.owner)
    for path, data in representative_posts(world):
        assert client.post(path, data).status_code == 403, path


def test_an_htmx_post_without_a_token_is_refused(world, strict):
    client = strict(world.owner)
    for path, data in representative_posts(world):
        assert client.post(path, data, HTTP_HX_REQUEST="true").status_code == 403, path


def test_an_htmx_post_with_the_header_base_html_sends_is_accepted(world, strict):
    client = strict(world.owner)
    page = client.get("/projects/")
    assert "hx-headers='{&quot;X-CSRFToken&quot;" in page.content.decode() or 'hx-headers=\'{"X-CSRFToken"' in (
        page.content.decode()
    )
    token = client.cookies["csrftoken"].value
    for path, data in representative_posts(world):
        response = client.post(path, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
        assert response.status_code != 403, path


def test_the_public_host_refuses_posts_without_a_token(world, public):
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    client.force_login(world.owner)
    assert client.post(f"/workspaces/{world.org.slug}/open/").status_code == 403
    assert client.post("/accounts/logout/").status_code == 403
    assert (
        Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
        .post("/accounts/password/reset/", {"email": "owner@testorg.test"})
        .status_code
        == 403
    )
