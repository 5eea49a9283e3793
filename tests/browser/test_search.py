"""Search in a real browser: `/` focuses the nav box from any page, Enter opens the results,
typing on the results page swaps them in place (htmx, no reload, the address follows), and a
result opens the email with the words marked; a `<script>` in the mail never runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Email, EmailState, Event, EventKind
from projects.models import Project, ProjectAlias
from tests.browser.conftest import BrowserWorld, Recorder, screenshot

pytestmark = pytest.mark.browser


@dataclass
class Mail:
    project: Project
    email: Email
    event: Event


@pytest.fixture(scope="module")
def mail(world: BrowserWorld, db_blocker: Any) -> Iterator[Mail]:
    now = timezone.now()
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        project = Project.objects.create(name="Store locator", slug="store-locator", client_name="Fjord Maps AS")
        ProjectAlias.objects.create(project=project, alias="Mapbox rollout")
        email = Email.objects.create(
            message_id="<locator-tiles@fjordmaps.example>",
            from_address="ingrid@fjordmaps.example",
            from_name="Ingrid Halvorsen",
            subject="Mapbox tiles for the locator",
            text=(
                "Hi,\n\nWe moved the store locator to Mapbox last week. <script>alert('mail')</script>\n"
                "The Mapbox invoice is due on the 20th.\n\nIngrid"
            ),
            received_at=now,
            date=now,
            state=EmailState.PROCESSED,
            project=project,
        )
        event = Event.objects.create(
            project=project,
            email=email,
            kind=EventKind.PAYMENT,
            title="Mapbox invoice due",
            date=timezone.localdate(),
            evidence="The Mapbox invoice is due on the 20th.",
            confidence=0.9,
            provider="rules",
        )
    yield Mail(project=project, email=email, event=event)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Event.objects.filter(project=project).delete()
        Email.objects.filter(project=project).delete()
        project.delete()


def test_a_member_searches_from_the_nav_and_opens_the_email_marked(
    page: Any, world: BrowserWorld, sign_in: Any, mail: Mail, recorder: Recorder
) -> None:
    sign_in(world.user("viewer"))  # any member may search; the viewer is the least of them
    page.goto(world.url("/projects/"))
    box = page.locator("#nav-search")
    assert box.is_visible()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "nav-search"
    page.keyboard.type("mapbox")
    assert box.input_value() == "mapbox"  # the "/" focused the box and was not typed into it
    screenshot(page, "search_nav_box")
    page.keyboard.press("Enter")

    page.wait_for_url("**/search/?q=mapbox")
    for kind in ("projects", "events", "emails"):
        assert page.locator(f"#search-{kind} li").count() == 1
    assert page.locator("#search-projects").inner_text().count("Mapbox") == 1  # the alias, marked
    assert page.locator("#search-emails mark").first.inner_text() == "Mapbox"
    screenshot(page, "search_results")

    # Typing more on the results page narrows them in place: no reload, the address follows.
    page.evaluate("window.__noReload = 'still here'")
    page.locator("#nav-search").fill("mapbox invoice")
    page.wait_for_url("**/search/?q=mapbox%20invoice")
    page.locator("#search-projects").wait_for(state="detached")
    assert page.evaluate("window.__noReload === 'still here'")
    assert page.locator("#search-events li").count() == 1 and page.locator("#search-emails li").count() == 1
    screenshot(page, "search_results_narrowed")

    page.locator("#search-emails a.hit-title").click()
    page.wait_for_url(f"**/inbox/{mail.email.code}/?q=mapbox%20invoice#match")
    marks = page.locator("pre.email-body mark.search-match")
    assert [marks.nth(i).inner_text() for i in range(marks.count())] == ["Mapbox", "Mapbox", "invoice"]
    assert "<script>alert('mail')</script>" in page.locator("pre.email-body").inner_text()  # shown as text
    screenshot(page, "search_email_marked")
    assert recorder.nothing_ran(), recorder.dialogs
    assert recorder.console_errors == [] and recorder.page_errors == []


def test_slash_types_a_slash_in_a_field(page: Any, world: BrowserWorld, sign_in: Any, mail: Mail) -> None:
    sign_in(world.user("member"))
    page.goto(world.url("/projects/"))
    field = page.locator("input[name=q]").first  # the projects list's own filter box
    if field.get_attribute("id") == "nav-search":
        field = page.locator("form.filter-bar input[name=q]")
    field.click()
    page.keyboard.type("a/b")
    assert field.input_value() == "a/b"
    assert page.locator("#nav-search").input_value() == ""
