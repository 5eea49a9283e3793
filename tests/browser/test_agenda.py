"""The agenda in a real browser: a member lands on it from /, narrows it by kind and to their own
items in place (htmx, no reload, the address kept in sync), the same filters work with
JavaScript off, it fits a 390 px phone without sideways scrolling, and a project's timeline
draws its "today" line between past and upcoming. Screenshots at 1366 and 390 px."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Email, EmailState, Event, EventKind
from projects.models import Project
from tests.browser.conftest import BrowserWorld, Recorder, screenshot

pytestmark = pytest.mark.browser


@dataclass
class Plans:
    kitchen: Project
    bakery: Project
    titles: dict[str, str]  # title → the agenda section it belongs in


@pytest.fixture(scope="module")
def plans(world: BrowserWorld, db_blocker: Any) -> Iterator[Plans]:
    """Two projects with something overdue, something today and something next week, a suggestion
    (never on the agenda) and a past meeting (never overdue), committed."""
    today = timezone.localdate()
    next_monday = today + dt.timedelta(days=7 - today.weekday())
    member = world.user("member")
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        kitchen = Project.objects.create(name="Agenda kitchen refit", slug="agenda-kitchen-refit")
        bakery = Project.objects.create(name="Agenda bakery website", slug="agenda-bakery-website")
        email = Email.objects.create(
            message_id="<agenda-plans@client.example>",
            from_address="ana@client.example",
            from_name="Ana Diaz",
            subject="Refit plans",
            text="Hello,\n\nThe drawings were due last week. Site visit today at 9:30.\n\nAna",
            received_at=timezone.now(),
            state=EmailState.PROCESSED,
            project=kitchen,
        )

        def event(project: Project, title: str, kind: str, day: dt.date, **extra: Any) -> None:
            Event.objects.create(
                project=project, email=email, kind=kind, title=title, date=day, provider="rules", **extra
            )

        event(
            kitchen, "Drawings due", EventKind.DEADLINE, today - dt.timedelta(days=5), evidence="The drawings were due"
        )
        event(kitchen, "Site visit", EventKind.MEETING, today, time=dt.time(9, 30), people=[member.email])
        event(bakery, "Deposit due", EventKind.PAYMENT, next_monday, amount="2400.00", currency="USD")
        event(bakery, "Launch", EventKind.MILESTONE, next_monday + dt.timedelta(days=2))
        event(kitchen, "Maybe drinks", EventKind.MEETING, today, suggested=True)
        event(kitchen, "Last month's call", EventKind.MEETING, today - dt.timedelta(days=30))
    yield Plans(
        kitchen=kitchen,
        bakery=bakery,
        titles={"Drawings due": "overdue", "Site visit": "today", "Deposit due": "next_week", "Launch": "next_week"},
    )
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Event.objects.filter(project__in=[kitchen, bakery]).delete()
        Email.objects.filter(project__in=[kitchen, bakery]).delete()
        kitchen.delete()
        bakery.delete()


def agenda_titles(page: Any, section: str = "") -> list[str]:
    scope = f"#agenda-{section} " if section else ""
    return [t for t in page.locator(f"{scope}.agenda-item .event-title").all_inner_texts() if t in TITLES]


TITLES = {"Drawings due", "Site visit", "Deposit due", "Launch", "Maybe drinks", "Last month's call"}


def test_a_member_lands_on_the_agenda_and_narrows_it_in_place(
    page: Any, world: BrowserWorld, sign_in: Any, plans: Plans, recorder: Recorder
) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(world.user("member"))
    page.goto(world.url("/"))
    page.wait_for_url(world.url("/agenda/"))

    assert page.locator("nav .main-nav a").first.inner_text() == "Agenda"
    assert page.get_by_role("heading", name="Agenda", level=1).is_visible()
    for title, section in plans.titles.items():
        assert title in agenda_titles(page, section), (title, section)
    assert "Maybe drinks" not in agenda_titles(page)  # a suggestion
    assert "Last month's call" not in agenda_titles(page)  # a past meeting is not overdue
    visit = page.locator(".agenda-item", has_text="Site visit")
    assert "09:30" in visit.inner_text()
    assert visit.locator(".agenda-project").inner_text() == "Agenda kitchen refit"
    assert visit.get_by_role("link", name="Source email").get_attribute("href").endswith("#evidence")
    screenshot(page, "agenda_1366")
    page.evaluate("window.__noReload = 'still here'")

    page.locator("select[name=kind]").select_option("payment")

    page.wait_for_url(re.compile(r"kind=payment"))
    page.locator("#agenda-results .agenda-item").first.wait_for()
    assert agenda_titles(page) == ["Deposit due"]

    page.locator("select[name=kind]").select_option("")
    page.get_by_text("Mine", exact=True).click()

    page.wait_for_url(re.compile(r"person=mine"))
    page.wait_for_function("document.querySelectorAll('#agenda-results .agenda-item').length === 1")
    assert agenda_titles(page) == ["Site visit"]
    assert page.evaluate("window.__noReload === 'still here'")
    screenshot(page, "agenda_mine_1366")

    page.get_by_role("link", name="Site visit").click()
    page.wait_for_url(re.compile(rf"/projects/{plans.kitchen.code}/#event-"))
    assert recorder.console_errors == [] and recorder.page_errors == [] and recorder.failed_responses == []


def test_the_filters_work_without_javascript(browser: Any, world: BrowserWorld, plans: Plans, db_blocker: Any) -> None:
    from tests.browser.conftest import session_cookie

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1366, "height": 900})
    try:
        context.add_cookies([session_cookie(world, world.user("viewer"), db_blocker)])
        page = context.new_page()
        page.goto(world.url("/agenda/"))
        page.locator("select[name=project]").select_option(label="Agenda bakery website")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(re.compile(rf"project={plans.bakery.code}"))
        assert agenda_titles(page) == ["Deposit due", "Launch"]
    finally:
        context.close()


def test_the_agenda_fits_a_phone(page: Any, world: BrowserWorld, sign_in: Any, plans: Plans) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(world.user("member"))
    page.goto(world.url("/agenda/"))
    assert "Site visit" in agenda_titles(page, "today")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the agenda scrolls sideways to {width} px"
    screenshot(page, "agenda_390")


@pytest.mark.parametrize("width", [1366, 390])
def test_a_timeline_draws_today_between_past_and_upcoming(
    page: Any, world: BrowserWorld, sign_in: Any, plans: Plans, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(world.user("member"))
    page.goto(world.url(f"/projects/{plans.kitchen.code}/"))
    line = page.locator(".today-line")
    assert line.count() == 1
    assert line.inner_text().startswith("TODAY")  # uppercase by the stylesheet
    past = page.locator("li.event", has_text="Drawings due").bounding_box()
    today = line.bounding_box()
    upcoming = page.locator("li.event", has_text="Site visit").bounding_box()
    assert past["y"] < today["y"] < upcoming["y"]
    line.scroll_into_view_if_needed()
    screenshot(page, f"timeline_today_{width}")
