"""Every main page of the workspace, reached through the navigation as an admin: it loads with
its styles and scripts (DEBUG off, static files as in production), nothing fails in the
console, and a screenshot is written for review."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import BrowserWorld, Recorder, screenshot

pytestmark = pytest.mark.browser

NAV = [
    ("Agenda", "/agenda/", "agenda"),
    ("Inbox", "/inbox/", "inbox"),
    ("Usage", "/usage/", "usage"),
    ("Billing", "/billing/", "billing"),
]


@pytest.mark.parametrize(("link", "path", "name"), [*NAV, ("Settings", "/settings/", "settings")])
def test_each_main_page_opens_from_the_navigation_without_errors(
    page: Any, world: BrowserWorld, sign_in: Any, recorder: Recorder, link: str, path: str, name: str
) -> None:
    sign_in(world.user("admin"))
    page.goto(world.url("/projects/"))

    page.locator("nav .main-nav").get_by_role("link", name=link, exact=True).click()

    page.wait_for_url(world.url(path))
    page.wait_for_load_state("load")
    assert page.locator("main h1").first.is_visible()
    # Pico's stylesheet is served (not a 404 page), so the layout is the real one.
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    assert page.evaluate("typeof window.htmx") == "object"
    screenshot(page, name)
    assert recorder.failed_responses == []
    assert recorder.console_errors == []
    assert recorder.page_errors == []
