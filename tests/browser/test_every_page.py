"""Every page of the workspace (and sign-in) at 1366 px and on a 390 px phone: no sideways
scrolling on the phone, no serious or critical accessibility violation (axe-core, through
axe-playwright-python, which ships axe's script: nothing is fetched at test time), and a
screenshot of each page at both widths in tests/artifacts/ (page_<name>_<width>.png).

The workspace has enough in it for each page to show its real parts: a project with a timeline
(a suggestion, a low-confidence event, an edited one), mail that is filed, failed and unfiled,
a pending invitation, an allowed sender.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Email, EmailLog, EmailState, Event, EventKind
from organizations.models import AllowedSender, Invitation
from organizations.services import invitation_create
from projects.models import Project
from tests.browser.conftest import BrowserWorld, Recorder, screenshot

pytestmark = pytest.mark.browser

WIDTHS = (1366, 390)
# axe-core's impact levels that fail the test: zero serious or critical violations.
BLOCKING = {"serious", "critical"}


@dataclass
class Workspace:
    project: Project
    email: Email
    unfiled: Email


@pytest.fixture(scope="module")
def workspace(world: BrowserWorld, db_blocker: Any) -> Iterator[Workspace]:
    today = timezone.localdate()
    now = timezone.now()
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        project = Project.objects.create(
            name="Harbour Bakery shop fit-out with a rather long name for a phone",
            slug="page-harbour-bakery",
            client_name="Harbour Bakery Ltd",
            client_email="orders@harbour-bakery.example",
            last_activity_at=now,
        )
        Project.objects.create(name="Page garden studio", slug="page-garden-studio", last_activity_at=now)
        email = Email.objects.create(
            message_id="<every-page@harbour-bakery.example>",
            from_address="margarethe.oberholzer-vandenberg@harbour-bakery.example",
            from_name="Margarethe Oberholzer-Vandenberg",
            to=[f"{world.org.slug}@in.localhost", "a.very.long.address.of.someone@subcontractor-company.example"],
            cc=["another.long.address@harbour-bakery.example"],
            subject="Re: Fwd: Shop fit-out — revised drawings, counter heights and the deposit invoice INV-2026-00417",
            text=(
                "Hello,\n\nThe revised drawings are due on Friday. Site visit on Monday at 9:30.\n"
                "Deposit of 2,400 EUR by the 15th: https://billing.harbour-bakery.example/invoices/"
                "INV-2026-00417?token=abcdefghijklmnopqrstuvwxyz0123456789\n\nMargarethe"
            ),
            received_at=now,
            state=EmailState.PROCESSED,
            project=project,
            filing="auto",
        )
        EmailLog.objects.create(email=email, state=EmailState.PROCESSED, message="Processed by rules")
        Email.objects.create(
            message_id="<every-page-failed@harbour-bakery.example>",
            from_address="pm@harbour-bakery.example",
            subject="A failed one",
            text="x",
            received_at=now,
            state=EmailState.FAILED,
            project=project,
        )
        unfiled = Email.objects.create(
            message_id="<every-page-unfiled@harbour-bakery.example>",
            from_address="owner@harbour-bakery.example",
            from_name="Harbour Bakery",
            subject="Menu boards for the new shop?",
            text="Could you also do the menu boards? We open on the 1st.",
            received_at=now,
            state=EmailState.PROCESSED,
            filing="unfiled",
        )

        def event(title: str, kind: str, day: dt.date | None, **extra: Any) -> None:
            Event.objects.create(project=project, email=email, kind=kind, title=title, date=day, **extra)

        event("Revised drawings due", EventKind.DEADLINE, today + dt.timedelta(days=2), evidence="due on Friday")
        event("Site visit", EventKind.MEETING, today + dt.timedelta(days=5), time=dt.time(9, 30), confidence=0.45)
        event("Deposit", EventKind.PAYMENT, today - dt.timedelta(days=3), amount="2400.00", currency="EUR")
        event("Counter heights decided", EventKind.DECISION, today - dt.timedelta(days=9), edited=True)
        event("Maybe menu boards", EventKind.ACTION_ITEM, today + dt.timedelta(days=9), suggested=True)
    with db_blocker.unblock():
        AllowedSender.objects.get_or_create(organization=world.org, pattern="@harbour-bakery.example")
        invitation, _ = invitation_create(
            organization=world.org, email="new.colleague@browserorg.test", role="member", invited_by=None, send=False
        )
    yield Workspace(project=project, email=email, unfiled=unfiled)
    with db_blocker.unblock():
        Invitation.objects.filter(pk=invitation.pk).delete()
        AllowedSender.objects.filter(organization=world.org, pattern="@harbour-bakery.example").delete()
        with schema_context(world.org.schema_name):
            Event.objects.filter(project__slug__startswith="page-").delete()
            Email.objects.filter(message_id__startswith="<every-page").delete()
            Project.objects.filter(slug__startswith="page-").delete()


PAGES = {
    "agenda": "/agenda/",
    "projects": "/projects/",
    "project_new": "/projects/new/",
    "timeline": "/projects/{project}/",
    "project_settings": "/projects/{project}/settings/",
    "inbox": "/inbox/",
    "email": "/inbox/{email}/",
    "unfiled": "/inbox/unfiled/",
    "search": "/search/?q=drawings",
    "team": "/team/",
    "settings": "/settings/",
    "api_keys": "/settings/api-keys/",
    "billing": "/billing/",
    "usage": "/usage/",
    "account_password": "/accounts/password/change/",
    "account_email": "/accounts/email/",
    "account_two_factor": "/accounts/2fa/",
    "account_time_zone": "/accounts/time-zone/",
    "not_found": "/no-such-page/",
}


def axe_problems(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def check_page(page: Any, name: str, width: int) -> list[str]:
    """What is wrong with the page as loaded at `width`: sideways scrolling, axe violations."""
    problems = []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        # The innermost elements that reach past the edge: where to look.
        wide = page.evaluate(
            """(limit) => {
                 const past = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > limit + 1; };
                 const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                   (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
                 return [...document.querySelectorAll('body *')]
                   .filter((e) => past(e) && ![...e.children].some(past)).slice(0, 8).map(name);
               }""",
            width,
        )
        problems.append(f"{name} at {width} px scrolls sideways to {scroll_width} px: {wide}")
    problems += [f"{name} at {width} px: {p}" for p in axe_problems(page)]
    screenshot(page, f"page_{name}_{width}")
    return problems


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_every_workspace_page_fits_the_screen_and_passes_axe(
    page: Any, world: BrowserWorld, sign_in: Any, workspace: Workspace, recorder: Recorder, name: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(world.user("owner"))

    path = PAGES[name].format(project=workspace.project.code, email=workspace.email.code)
    response = page.goto(world.url(path))

    assert response.status == (404 if name == "not_found" else 200)
    assert page.locator("main h1").first.is_visible()
    assert check_page(page, name, width) == []
    assert recorder.page_errors == [] and recorder.console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "role", "path"), [("forbidden", "member", "/billing/")])
def test_the_403_page_fits_the_screen_and_passes_axe(
    page: Any, world: BrowserWorld, sign_in: Any, name: str, role: str, path: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(world.user(role))

    response = page.goto(world.url(path))

    assert response.status == 403
    assert page.get_by_text("Back to the agenda").is_visible()
    assert check_page(page, name, width) == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("host", ["workspace", "public"])
def test_sign_in_fits_the_screen_and_passes_axe(
    page: Any, world: BrowserWorld, live_server_url: str, host: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    base = world.url("") if host == "workspace" else live_server_url

    page.goto(f"{base}/accounts/login/")

    assert page.get_by_label("Email").is_visible()
    assert check_page(page, f"sign_in_{host}", width) == []


@pytest.mark.parametrize("width", [390, 360])
def test_the_nav_collapses_on_a_phone_and_opens_without_javascript(
    browser: Any, world: BrowserWorld, db_blocker: Any, workspace: Workspace, width: int
) -> None:
    from tests.browser.conftest import session_cookie

    context = browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 800})
    try:
        context.add_cookies([session_cookie(world, world.user("owner"), db_blocker)])
        page = context.new_page()
        page.goto(world.url("/projects/"))
        nav = page.locator(".main-nav")
        assert not nav.get_by_role("link", name="Team").is_visible()  # folded away

        page.locator(".nav-menu > summary").click()

        assert nav.get_by_role("link", name="Team").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"nav_open_{width}")
        nav.get_by_role("link", name="Team").click()
        page.wait_for_url(world.url("/team/"))
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 1366])
def test_the_nav_is_open_in_one_row_on_a_wide_screen(page: Any, world: BrowserWorld, sign_in: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(world.user("owner"))
    page.goto(world.url("/projects/"))

    assert page.locator(".main-nav").get_by_role("link", name="Team").is_visible()
    assert not page.locator(".nav-menu > summary").is_visible()
    boxes = [page.locator(part).bounding_box() for part in (".brand", ".main-nav", ".user-menu")]
    middles = [box["y"] + box["height"] / 2 for box in boxes]
    assert max(middles) - min(middles) < 16, f"the brand, the links and the account menu share one row: {middles}"
    screenshot(page, f"nav_wide_{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_accessibility_check_fails_a_page_with_a_serious_violation(
    page: Any, world: BrowserWorld, sign_in: Any
) -> None:
    """The check above can fail: an image without a text alternative is a critical violation."""
    sign_in(world.user("owner"))
    page.goto(world.url("/agenda/"))
    assert axe_problems(page) == []

    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/favicon.svg\">')")

    assert [p for p in axe_problems(page) if p.startswith("image-alt (critical)")]
