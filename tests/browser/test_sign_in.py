"""Signing in on a workspace host with the real form, and being refused with a wrong password."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, BrowserWorld, screenshot

pytestmark = pytest.mark.browser


def test_it_signs_in_with_the_form_and_lands_on_the_projects_list(page: Any, world: BrowserWorld) -> None:
    page.goto(world.url("/"))
    assert "/accounts/login/" in page.url
    screenshot(page, "sign_in")

    page.get_by_label("Email").fill(world.user("member").email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()

    page.wait_for_url(re.compile(r"/projects/"))
    assert page.get_by_role("link", name="Projects").is_visible()
    assert world.user("member").email in page.content()
