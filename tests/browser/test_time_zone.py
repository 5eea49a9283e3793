"""Time zones in a real browser: the first page after sign-in takes the browser's zone (once, and
not without JavaScript), and a person who sets their zone under Account sees the times change:
when an email arrived moves with them, a meeting in Oslo keeps 15:00 and gains their own time.
Screenshots at 1366 and 390 px."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from events.models import Email, EmailState, Event, EventKind
from organizations.models import Membership, Role
from projects.models import Project
from tests.browser.conftest import (
    EMAIL_DOMAIN,
    BrowserWorld,
    Recorder,
    delete_users,
    make_user,
    screenshot,
    session_cookie,
)

pytestmark = pytest.mark.browser

ARRIVED = dt.datetime(2026, 12, 7, 14, 30, tzinfo=dt.UTC)


@pytest.fixture
def person(world: BrowserWorld, db_blocker: Any, request: Any) -> Iterator[User]:
    """A member of their own without a zone, so setting one affects no other test."""
    email = f"tz-{request.node.name[5:40].replace('_', '-')}@{EMAIL_DOMAIN}".lower()
    with db_blocker.unblock():
        delete_users(email=email)
        user = make_user(email)
        Membership.objects.create(user=user, organization=world.org, role=Role.MEMBER)
    yield user
    with db_blocker.unblock():
        delete_users(pk=user.pk)


@pytest.fixture(scope="module")
def meeting(world: BrowserWorld, db_blocker: Any) -> Iterator[tuple[Project, Email]]:
    """A project whose email arrived at 14:30 UTC and asks for a call at 15:00 Oslo time, committed."""
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        project = Project.objects.create(name="Zone harbour office", slug="zone-harbour-office")
        email = Email.objects.create(
            message_id="<zone-call@client.example>",
            from_address="ingrid@client.example",
            from_name="Ingrid Berg",
            subject="Call on Monday",
            text="Hello,\n\nCan we talk on Monday 7 December at 15:00 Oslo time?\n\nIngrid",
            date=ARRIVED,
            received_at=ARRIVED,
            state=EmailState.PROCESSED,
            project=project,
        )
        Event.objects.create(
            project=project,
            email=email,
            kind=EventKind.MEETING,
            title="Call with Ingrid",
            date=dt.date(2026, 12, 7),
            time=dt.time(15, 0),
            timezone="Europe/Oslo",
            provider="rules",
        )
    yield project, email
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Event.objects.filter(project=project).delete()
        Email.objects.filter(project=project).delete()
        project.delete()


def words(locator: Any) -> str:
    """The text as read aloud: the reader's time sits on a line of its own."""
    return " ".join(locator.inner_text().split())


def zone_of(user: User, db_blocker: Any) -> str:
    with db_blocker.unblock():
        user.refresh_from_db()
    return user.time_zone


def test_the_first_page_after_sign_in_takes_the_browsers_zone(
    browser: Any, world: BrowserWorld, person: User, db_blocker: Any
) -> None:
    context = browser.new_context(timezone_id="Asia/Tokyo", viewport={"width": 1366, "height": 900})
    try:
        context.add_cookies([session_cookie(world, person, db_blocker)])
        page = context.new_page()
        with page.expect_response(re.compile(r"/accounts/time-zone/detect/$")) as detected:
            page.goto(world.url("/projects/"))
        # (The page reloads at once, so the answer's body is gone; the database tells what was kept.)
        assert detected.value.status == 200
        assert detected.value.request.post_data == "time_zone=Asia%2FTokyo"
        # The page drew itself again in the new zone.
        page.locator("#page-time-zone", has_text="times in Asia/Tokyo").wait_for()
        assert zone_of(person, db_blocker) == "Asia/Tokyo"
        # Once: with a zone, pages no longer load the script.
        assert page.locator("script[data-time-zone-url]").count() == 0
    finally:
        context.close()


def test_without_javascript_pages_stay_in_utc_until_a_zone_is_chosen(
    browser: Any, world: BrowserWorld, person: User, db_blocker: Any
) -> None:
    context = browser.new_context(timezone_id="Asia/Tokyo", java_script_enabled=False)
    try:
        context.add_cookies([session_cookie(world, person, db_blocker)])
        page = context.new_page()
        page.goto(world.url("/projects/"))
        assert page.locator("#page-time-zone").inner_text() == "times in UTC"
        page.get_by_role("link", name="change").click()
        page.get_by_label("Time zone").select_option("Europe/Oslo")
        page.get_by_role("button", name="Save time zone").click()
        page.get_by_text("Times are now shown in Europe/Oslo.").wait_for()
        assert zone_of(person, db_blocker) == "Europe/Oslo"
    finally:
        context.close()


def test_a_person_sets_their_zone_and_sees_the_times_change(
    page: Any,
    world: BrowserWorld,
    sign_in: Any,
    person: User,
    meeting: tuple[Project, Email],
    db_blocker: Any,
    recorder: Recorder,
) -> None:
    project, email = meeting
    with db_blocker.unblock():
        person.time_zone = "UTC"
        person.save(update_fields=["time_zone"])
    sign_in(person)
    page.set_viewport_size({"width": 1366, "height": 900})

    page.goto(world.url(f"/inbox/{email.code}/"))
    assert "7 Dec 2026, 14:30" in page.locator("main").inner_text()
    page.goto(world.url(f"/projects/{project.code}/"))
    row = page.locator(".event", has_text="Call with Ingrid")
    assert words(row.locator(".event-time")) == "15:00 Oslo (14:00 your time)"
    screenshot(page, "time_zone_timeline_utc")

    page.goto(world.url("/accounts/email/"))
    page.get_by_role("link", name="Time zone").click()
    page.wait_for_url(re.compile(r"/accounts/time-zone/$"))
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Save time zone").click()
    page.get_by_text("Times are now shown in America/New York.").wait_for()
    screenshot(page, "time_zone_account")
    assert zone_of(person, db_blocker) == "America/New_York"

    page.goto(world.url(f"/inbox/{email.code}/"))
    assert "7 Dec 2026, 09:30" in page.locator("main").inner_text()
    assert page.locator("#page-time-zone").inner_text() == "times in America/New_York"
    page.goto(world.url(f"/projects/{project.code}/"))
    row = page.locator(".event", has_text="Call with Ingrid")
    # The meeting keeps the time its email gave, in its own zone, and gains the reader's.
    assert words(row.locator(".event-time")) == "15:00 Oslo (09:00 your time)"
    assert row.locator("abbr.zone").get_attribute("title") == "Europe/Oslo"
    screenshot(page, "time_zone_timeline_new_york")
    assert recorder.nothing_ran() and not recorder.console_errors


def axe_problems(page: Any) -> list[str]:
    """Serious and critical axe-core violations (there must be none on any page)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", [1366, 390])
def test_the_time_zone_page_and_a_zoned_timeline_fit_the_width_and_pass_axe(
    page: Any,
    world: BrowserWorld,
    sign_in: Any,
    person: User,
    meeting: tuple[Project, Email],
    db_blocker: Any,
    width: int,
) -> None:
    with db_blocker.unblock():
        person.time_zone = "America/New_York"
        person.save(update_fields=["time_zone"])
    sign_in(person)
    page.set_viewport_size({"width": width, "height": 900})
    for name, path in (
        ("time_zone_account", "/accounts/time-zone/"),
        ("time_zone_timeline", f"/projects/{meeting[0].code}/"),
    ):
        page.goto(world.url(path))
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{path} scrolls sideways to {scroll_width} px at {width} px"
        assert axe_problems(page) == [], path
        screenshot(page, f"{name}_{width}")


def test_a_date_typed_in_the_browsers_own_order_is_sent_as_iso(
    page: Any, world: BrowserWorld, sign_in: Any, person: User, meeting: tuple[Project, Email]
) -> None:
    # The browser draws <input type="date"> in its own locale: Debian's headless Chromium is
    # en-US whatever --lang or the context's locale say (tried), so the month comes first here.
    sign_in(person)
    page.goto(world.url(f"/projects/{meeting[0].code}/"))
    page.get_by_label("From").focus()
    page.keyboard.type("12072026")
    screenshot(page, "date_input_en_us")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"date_from=2026-12-07"))
    assert page.get_by_label("From").input_value() == "2026-12-07"
    assert page.locator(".event", has_text="Call with Ingrid").count() == 1
