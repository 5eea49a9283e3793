"""The 403, 404 and 500 pages (config/errors.py): the app's layout, a way back, no detail."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.test import Client

PAGE_LAYOUT = '<header class="topbar">'


@pytest.mark.parametrize(("role", "path"), [("member", "/billing/"), ("viewer", "/settings/api-keys/")])
def test_a_role_too_low_gets_the_styled_403_with_the_reason_and_a_way_back(
    world: Any, client_as: Any, role: str, path: str
) -> None:
    response = client_as(world.user(role)).get(path)

    body = response.content.decode()
    assert response.status_code == 403
    assert PAGE_LAYOUT in body and "css/app.css" in body
    assert "This page is not open to your role" in body
    assert "This needs the admin role or higher." in body  # organizations.access's own reason
    assert f"You are {role} in {world.org.name}" in body
    assert 'href="/agenda/" role="button">Back to the agenda' in body
    assert 'class="main-nav"' in body  # the workspace's navigation stays


def test_a_403_for_a_post_is_styled_too(world: Any, client_as: Any) -> None:
    response = client_as(world.viewer).post("/projects/new/", {"name": "Nope"})

    assert response.status_code == 403
    assert "This page is not open to your role" in response.content.decode()


def test_a_member_gets_the_styled_404_with_the_workspace_nav(world: Any, client_as: Any) -> None:
    response = client_as(world.member).get("/projects/00000000-0000-0000-0000-000000000000/")

    body = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here" in body and PAGE_LAYOUT in body
    assert 'class="main-nav"' in body and "Back to the agenda" in body
    assert "No Project matches" not in body  # Http404's own message is not shown


def test_a_non_member_gets_a_404_that_does_not_name_the_workspace(world: Any, client_as: Any) -> None:
    response = client_as(world.outsider).get("/agenda/")

    body = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here" in body
    assert world.org.name not in body
    assert 'class="main-nav"' not in body
    assert "/workspaces/" in body  # their own workspaces, on the public site


def test_an_anonymous_visitor_gets_a_404_with_sign_in(world: Any, workspace_client: Any) -> None:
    response = workspace_client.get("/no-such-page/")

    body = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here" in body and "Sign in" in body
    assert world.org.name not in body


def test_the_public_site_has_the_styled_404(public_client: Any) -> None:
    response = public_client.get("/no-such-page/")

    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()


def test_a_500_shows_the_layout_and_a_way_back_without_any_detail(world: Any) -> None:
    client = Client(HTTP_HOST=world.org.host, raise_request_exception=False)
    client.force_login(world.member)

    with mock.patch("events.views_agenda.agenda", side_effect=RuntimeError("secret detail: password=hunter2")):
        response = client.get("/agenda/")

    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body and PAGE_LAYOUT in body
    assert 'href="/" role="button">Back to the start' in body
    assert "secret detail" not in body and "RuntimeError" not in body and "Traceback" not in body
    assert world.org.name not in body  # rendered without the request's (database-reading) context
