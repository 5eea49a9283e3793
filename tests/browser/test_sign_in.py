"""Signing in on a workspace host with the real form, and being refused with a wrong password."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, BrowserWorld, screenshot

pytestmark = pytest.mark.browser


def test_it_signs_in_with_the_form_and_lands_on_the_agenda(page: Any, world: BrowserWorld) -> None:
    page.goto(world.url("/"))
    assert "/accounts/login/" in page.url
    screenshot(page, "sign_in")

    page.get_by_label("Email").fill(world.user("member").email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()

    page.wait_for_url(re.compile(r"/agenda/$"))
    assert page.get_by_role("heading", name="Agenda").is_visible()
    assert page.get_by_role("link", name="Projects").is_visible()
    assert world.user("member").email in page.content()


def test_it_signs_in_on_the_public_host_and_opens_the_workspace_without_a_second_password(
    page: Any, world: BrowserWorld, live_server_url: str
) -> None:
    page.goto(f"{live_server_url}/accounts/login/")
    page.get_by_label("Email").fill(world.user("viewer").email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()

    page.get_by_role("heading", name="Your workspaces").wait_for()
    screenshot(page, "workspaces")
    page.get_by_role("button", name=f"Open {world.org.name}").click()

    page.wait_for_url(re.compile(rf"^{re.escape(world.url('/agenda/'))}"))
    assert world.user("viewer").email in page.content()


def test_it_refuses_a_wrong_password_with_a_message(page: Any, world: BrowserWorld) -> None:
    page.goto(world.url("/accounts/login/"))
    # The owner never signs in with the form elsewhere, so allauth's failed-login limit
    # (5 per 5 minutes, kept in the cache across --reuse-db runs) never blocks another test.
    page.get_by_label("Email").fill(world.user("owner").email)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()

    page.locator(".notice-error").wait_for()
    assert "/accounts/login/" in page.url
