"""The dashboard in a real browser: sign in → projects → timeline, filters and inline edits that
swap in place, infinite scroll, a viewer who can change nothing, and hostile email content that
shows as text without running."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Attachment, Email, EmailLog, EmailState, Event, EventKind
from projects.models import Project
from tests.browser.conftest import PASSWORD, BrowserWorld, Recorder, screenshot

pytestmark = pytest.mark.browser

LONG_TIMELINE = 65  # more than one page (events.selectors.PAGE_SIZE = 50)
HOSTILE = {
    "subject": "<script>alert('subject')</script>Invoice",
    "text": "Hello <img src=x onerror=alert('text')>\nThe handover is on 3 March.\n<script>alert('text2')</script>",
    "html": "<p>Hi</p><img src=x onerror=\"alert('html')\"><script>alert('html2')</script><a href=\"javascript:alert('link')\">click</a>",
    "filename": "\"><img src=x onerror=alert('file')>.pdf",
    "title": "<svg onload=alert('event')>Handover",
    "evidence": "<img src=x onerror=alert('evidence')> The handover is on 3 March.",
}


@dataclass
class Dashboard:
    kitchen: Project
    garden: Project
    hostile: Project
    first_event: Event
    hostile_email: Email


@pytest.fixture(scope="module")
def dashboard(world: BrowserWorld, db_blocker: Any) -> Iterator[Dashboard]:
    """Projects, a long timeline and one hostile email, committed in the browser workspace."""
    today = timezone.localdate()
    now = timezone.now()
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        kitchen = Project.objects.create(
            name="Kitchen refit", slug="kitchen-refit", client_name="Pat Client", last_activity_at=now
        )
        garden = Project.objects.create(
            name="Garden studio", slug="garden-studio", client_name="Green Ltd", last_activity_at=now
        )
        hostile = Project.objects.create(name="Hostile mail", slug="hostile-mail", last_activity_at=now)
        kinds = [EventKind.MEETING, EventKind.DEADLINE, EventKind.PAYMENT]
        Event.objects.bulk_create(
            Event(
                project=kitchen,
                kind=kinds[n % 3],
                title=f"Kitchen step {n:02d}",
                date=today + dt.timedelta(days=n),
                provider="rules",
            )
            for n in range(LONG_TIMELINE)
        )
        Event.objects.create(project=garden, kind=EventKind.MILESTONE, title="Foundations poured", date=today)
        email = Email.objects.create(
            message_id="<hostile@client.example>",
            from_address="pm@client.example",
            from_name="<b>Pat</b>",
            subject=HOSTILE["subject"],
            text=HOSTILE["text"],
            html=HOSTILE["html"],
            received_at=now,
            project=hostile,
            state=EmailState.PROCESSED,
        )
        EmailLog.objects.create(email=email, state=EmailState.PROCESSED, message="<script>alert('log')</script>")
        Attachment.objects.create(email=email, filename=HOSTILE["filename"], content_type="application/pdf", size=10)
        Event.objects.create(
            project=hostile,
            email=email,
            kind=EventKind.MILESTONE,
            title=HOSTILE["title"],
            evidence=HOSTILE["evidence"],
            date=today + dt.timedelta(days=3),
            confidence=0.4,
        )
        first = Event.objects.filter(project=kitchen).order_by("date").first()
        assert first is not None
    yield Dashboard(kitchen=kitchen, garden=garden, hostile=hostile, first_event=first, hostile_email=email)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Event.objects.all().delete()
        Email.objects.all().delete()
        Project.objects.all().delete()


def mark_window(page: Any) -> None:
    page.evaluate("window.__noReload = 'still here'")


def window_survived(page: Any) -> bool:
    return bool(page.evaluate("window.__noReload === 'still here'"))


def test_it_signs_in_and_opens_a_projects_timeline(page: Any, world: BrowserWorld, dashboard: Dashboard) -> None:
    page.goto(world.url("/"))
    page.get_by_label("Email").fill(world.user("member").email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(re.compile(r"/agenda/$"))  # the workspace's landing page
    page.get_by_role("link", name="Projects", exact=True).click()
    page.wait_for_url(re.compile(r"/projects/$"))
    assert page.get_by_role("link", name="Kitchen refit").is_visible()
    screenshot(page, "projects")

    page.get_by_role("link", name="Kitchen refit").click()
    page.wait_for_url(re.compile(rf"/projects/{dashboard.kitchen.code}/"))
    assert page.locator("li.event", has_text="Kitchen step 00").is_visible()
    screenshot(page, "timeline")


def test_searching_the_projects_updates_the_list_in_place_and_the_url(
    page: Any, world: BrowserWorld, sign_in: Any, dashboard: Dashboard
) -> None:
    sign_in(world.user("viewer"))
    page.goto(world.url("/projects/"))
    mark_window(page)

    page.get_by_label("Search projects").fill("garden")

    page.wait_for_url(re.compile(r"[?&]q=garden"))
    page.locator("#project-results").get_by_text("Kitchen refit").wait_for(state="detached")
    assert page.get_by_role("link", name="Garden studio").is_visible()
    assert window_survived(page)
    screenshot(page, "projects_filtered")


def test_filtering_the_timeline_by_kind_updates_it_in_place(
    page: Any, world: BrowserWorld, sign_in: Any, dashboard: Dashboard
) -> None:
    sign_in(world.user("viewer"))
    page.goto(world.url(f"/projects/{dashboard.kitchen.code}/"))
    mark_window(page)

    page.get_by_label("Kind").select_option("payment")

    page.wait_for_url(re.compile(r"kind=payment"))
    page.locator("li.event.kind-meeting").first.wait_for(state="detached")
    kinds = page.locator("li.event").evaluate_all("rows => rows.map(r => r.className)")
    assert kinds and all("kind-payment" in k for k in kinds)
    assert window_survived(page)


def test_scrolling_to_the_end_loads_the_next_page(
    page: Any, world: BrowserWorld, sign_in: Any, dashboard: Dashboard
) -> None:
    sign_in(world.user("viewer"))
    page.goto(world.url(f"/projects/{dashboard.kitchen.code}/"))
    first_page = page.locator("li.event").count()
    assert first_page < LONG_TIMELINE
    mark_window(page)

    page.locator(".load-more").scroll_into_view_if_needed()

    page.locator("li.event", has_text=f"Kitchen step {LONG_TIMELINE - 1:02d}").wait_for()
    assert page.locator("li.event").count() == LONG_TIMELINE
    assert page.locator(".load-more").count() == 0
    assert window_survived(page)


def test_editing_an_event_inline_saves_it(
    page: Any, world: BrowserWorld, sign_in: Any, dashboard: Dashboard, db_blocker: Any
) -> None:
    event = dashboard.first_event
    sign_in(world.user("member"))
    page.goto(world.url(f"/projects/{dashboard.kitchen.code}/"))
    mark_window(page)
    row = page.locator(f"#event-{event.code}")

    row.get_by_role("button", name="Edit").click()
    title = page.locator(f"#event-{event.code} input[name=title]")
    title.fill("Kitchen step 00, moved by the client")
    screenshot(page, "timeline_inline_edit")
    page.locator(f"#event-{event.code}").get_by_role("button", name="Save").click()

    page.locator(f"#event-{event.code} .event-title", has_text="moved by the client").wait_for()
    assert window_survived(page)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        event.refresh_from_db()
    assert event.title == "Kitchen step 00, moved by the client"
    assert event.edited is True


def test_a_viewer_sees_no_edit_controls_and_a_forged_post_is_refused(
    page: Any, world: BrowserWorld, sign_in: Any, dashboard: Dashboard, db_blocker: Any
) -> None:
    event = dashboard.first_event
    sign_in(world.user("viewer"))
    page.goto(world.url(f"/projects/{dashboard.kitchen.code}/"))
    screenshot(page, "timeline_viewer")

    for name in ("Edit", "Done", "Delete"):
        assert page.get_by_role("button", name=name).count() == 0
    assert page.get_by_text("Add an event").count() == 0

    status = page.evaluate(
        """async (url) => {
            const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const response = await fetch(url, {
                method: "POST",
                headers: {"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded"},
                body: "done=1",
            });
            return response.status;
        }""",
        f"/projects/{dashboard.kitchen.code}/events/{event.code}/done/",
    )

    assert status == 403
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        event.refresh_from_db()
    assert event.done is False


def test_hostile_email_content_shows_as_text_and_never_runs(
    page: Any, world: BrowserWorld, sign_in: Any, dashboard: Dashboard, recorder: Recorder
) -> None:
    sign_in(world.user("member"))

    page.goto(world.url(f"/projects/{dashboard.hostile.code}/"))
    assert page.locator(".event-title").first.inner_text() == HOSTILE["title"]
    screenshot(page, "timeline_hostile")

    page.get_by_role("link", name=re.compile("Source email")).click()
    page.wait_for_url(re.compile(rf"/inbox/{dashboard.hostile_email.code}/"))
    page.wait_for_load_state("load")
    screenshot(page, "email_hostile")

    assert page.locator("h1").first.inner_text() == HOSTILE["subject"]
    assert "<script>alert('text2')</script>" in page.locator(".email-body").inner_text()
    assert page.get_by_text(HOSTILE["filename"]).count() == 1
    page.get_by_text("Formatted version").click()
    assert page.locator("iframe.email-frame").get_attribute("sandbox") == ""
    frame = page.frame_locator("iframe.email-frame")
    frame.get_by_text("Hi").wait_for()
    # Sanitised again at render (nh3), and sandboxed besides: nothing executable is left.
    assert frame.locator("script, [onerror], [onload], a[href^=javascript]").count() == 0
    screenshot(page, "email_hostile_formatted")
    assert page.locator("body img[src=x], body svg[onload], body script:not([src])").count() == 0
    assert recorder.dialogs == []
    assert recorder.page_errors == []


def test_moving_an_event_to_another_month_reloads_the_timeline_with_it_in_that_month(
    page: Any, world: BrowserWorld, sign_in: Any, dashboard: Dashboard, db_blocker: Any
) -> None:
    event = dashboard.first_event
    # Another month, still on the first page of the timeline (50 of its 65 events).
    new_date = (event.date or timezone.localdate()) + dt.timedelta(days=40)
    sign_in(world.user("member"))
    page.goto(world.url(f"/projects/{dashboard.kitchen.code}/"))

    page.locator(f"#event-{event.code}").get_by_role("button", name="Edit").click()
    page.locator(f"#event-{event.code} input[name=date]").fill(new_date.isoformat())
    page.locator(f"#event-{event.code}").get_by_role("button", name="Save").click()

    page.get_by_text("Event saved and moved to its new date.").wait_for()
    month = page.locator(f"section.month:has(#event-{event.code})")
    assert month.get_attribute("data-month") == new_date.strftime("%Y-%m")
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        event.refresh_from_db()
    assert event.date == new_date
