"""Filing by hand in a real browser: Unfiled in the nav, one click into a suggestion, a new project
with its name edited, moving a filed email from the inbox and undoing it, and what a filing taught
shown (and removable) in the project's settings. Each swap happens in place, without a reload."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Email, EmailState, Event, EventKind, FilingState
from organizations.models import Organization
from projects.models import Project, ProjectSignal
from tests.browser.conftest import BrowserWorld, Recorder, screenshot

pytestmark = pytest.mark.browser


@dataclass
class Filing:
    cafe: Project
    bakery: Project
    menu: Email  # unfiled, suggests the cafe first
    signage: Email  # unfiled, proposes a new project
    tiles: Email  # filed in the bakery, with an event


def _waiting(title: str, kind: str, day: dt.date) -> dict[str, Any]:
    return {
        "provider": "rules",
        "model": "",
        "summary": "",
        "events": [
            {"kind": kind, "title": title, "date": day.isoformat(), "time": None, "evidence": title, "confidence": 0.7}
        ],
    }


@pytest.fixture(scope="module")
def filing(world: BrowserWorld, db_blocker: Any) -> Iterator[Filing]:
    """Two projects, two unfiled emails and a filed one, committed in the browser workspace."""
    now = timezone.now()
    day = timezone.localdate() + dt.timedelta(days=9)
    with db_blocker.unblock():
        # The free plan's two projects are taken below; a new project needs room.
        Organization.objects.filter(pk=world.org.pk).update(custom_project_limit=10)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        cafe = Project.objects.create(name="Harbour cafe", slug="harbour-cafe", client_name="Harbour Hospitality")
        bakery = Project.objects.create(name="Crumb bakery", slug="crumb-bakery", client_name="Crumb & Co")

        def unfiled(subject: str, sender: str, name: str, suggestions: list[dict[str, Any]], **kw: Any) -> Email:
            return Email.objects.create(
                message_id=f"<{sender}-{subject[:8]}@example.com>",
                from_address=sender,
                from_name=name,
                subject=subject,
                text=f"Hello,\n\n{subject}.\n\n{name}",
                received_at=now,
                date=now,
                state=EmailState.PROCESSED,
                filing=FilingState.UNFILED,
                filing_confidence=0.41,
                filing_reason="subject words, below the threshold",
                suggestions=suggestions,
                **kw,
            )

        menu = unfiled(
            "New menu boards for the terrace",
            "ana@harbourhospitality.example",
            "Ana Diaz",
            [
                {"project": cafe.pk, "score": 0.48, "name": "", "client_name": "", "client_email": ""},
                {"project": bakery.pk, "score": 0.21, "name": "", "client_name": "", "client_email": ""},
            ],
            waiting=_waiting("Menu board proofs due", EventKind.DEADLINE, day),
        )
        signage = unfiled(
            "Shopfront signage quote",
            "lee@northwindgallery.example",
            "Lee Park",
            [
                {
                    "project": None,
                    "score": 0.35,
                    "name": "Northwind – signage",
                    "client_name": "Northwind",
                    "client_email": "lee@northwindgallery.example",
                },
                {"project": cafe.pk, "score": 0.12, "name": "", "client_name": "", "client_email": ""},
            ],
            waiting=_waiting("Signage site visit", EventKind.MEETING, day),
        )
        tiles = Email.objects.create(
            message_id="<tiles@crumb.example>",
            from_address="jo@crumb.example",
            from_name="Jo Crumb",
            subject="Tiles for the counter",
            text="Hello,\n\nThe tiles arrive on Friday.\n\nJo",
            received_at=now - dt.timedelta(hours=1),
            state=EmailState.PROCESSED,
            project=bakery,
            filing=FilingState.AUTO,
            filing_confidence=0.74,
            filing_reason="client email",
        )
        Event.objects.create(project=bakery, email=tiles, kind=EventKind.MILESTONE, title="Tiles arrive", date=day)
    yield Filing(cafe=cafe, bakery=bakery, menu=menu, signage=signage, tiles=tiles)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Event.objects.all().delete()
        Email.objects.all().delete()
        Project.objects.all().delete()
    with db_blocker.unblock():
        Organization.objects.filter(pk=world.org.pk).update(custom_project_limit=None)


def mark_window(page: Any) -> None:
    page.evaluate("window.__noReload = 'still here'")


def window_survived(page: Any) -> bool:
    return bool(page.evaluate("window.__noReload === 'still here'"))


def refreshed(world: BrowserWorld, db_blocker: Any, email: Email) -> Email:
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        return Email.objects.select_related("project").get(pk=email.pk)


def test_filing_into_a_suggestion_swaps_the_row_for_a_confirmation_with_undo(
    page: Any, world: BrowserWorld, sign_in: Any, filing: Filing, db_blocker: Any, recorder: Recorder
) -> None:
    sign_in(world.user("member"))
    page.goto(world.url("/projects/"))
    page.locator("#nav-unfiled").get_by_role("link", name=re.compile(r"Unfiled\s+2")).click()
    page.wait_for_url(world.url("/inbox/unfiled/"))
    row = page.locator(f"#unfiled-{filing.menu.code}")
    assert row.get_by_text("Menu board proofs due").is_visible()
    screenshot(page, "unfiled")
    mark_window(page)

    row.get_by_role("button", name="Harbour cafe").click()

    page.locator(f"#unfiled-{filing.menu.code}.filed-row").wait_for()
    confirmation = page.locator(f"#unfiled-{filing.menu.code}")
    assert "Filed “New menu boards for the terrace” into Harbour cafe." in confirmation.inner_text()
    assert confirmation.get_by_role("button", name="Undo").is_visible()
    page.locator("#nav-unfiled").get_by_text(re.compile(r"Unfiled\s+1")).wait_for()
    assert window_survived(page)
    screenshot(page, "unfiled_filed")
    email = refreshed(world, db_blocker, filing.menu)
    assert (email.project_id, email.filing) == (filing.cafe.pk, FilingState.HAND)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        assert Event.objects.filter(project=filing.cafe, title="Menu board proofs due").exists()
    assert recorder.console_errors == [] and recorder.page_errors == []


def test_filing_into_a_new_project_uses_the_name_as_edited(
    page: Any, world: BrowserWorld, sign_in: Any, filing: Filing, db_blocker: Any
) -> None:
    sign_in(world.user("member"))
    page.goto(world.url("/inbox/unfiled/"))
    row = page.locator(f"#unfiled-{filing.signage.code}")
    name = row.get_by_label("New project name")
    assert name.input_value() == "Northwind – signage"
    mark_window(page)

    name.fill("Northwind Gallery – shopfront signage")
    row.get_by_label("Client").fill("Northwind Gallery")
    row.get_by_role("button", name="Create and file").click()

    page.locator(f"#unfiled-{filing.signage.code}.filed-row").wait_for()
    assert "into Northwind Gallery – shopfront signage." in page.locator(f"#unfiled-{filing.signage.code}").inner_text()
    assert window_survived(page)
    screenshot(page, "unfiled_new_project")
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        project = Project.objects.get(name="Northwind Gallery – shopfront signage")
        assert project.client_name == "Northwind Gallery"
        assert refreshed(world, db_blocker, filing.signage).project_id == project.pk


def test_moving_a_filed_email_from_the_inbox_and_undoing_it(
    page: Any, world: BrowserWorld, sign_in: Any, filing: Filing, db_blocker: Any
) -> None:
    sign_in(world.user("member"))
    page.goto(world.url("/inbox/"))
    row = page.locator(f"#email-{filing.tiles.code}")
    mark_window(page)

    row.get_by_role("combobox").select_option(label="Harbour cafe")
    row.get_by_role("button", name="Move").click()

    page.locator(f"#email-{filing.tiles.code}.filed-row").wait_for()
    moved = page.locator(f"#email-{filing.tiles.code}")
    assert "Moved “Tiles for the counter” from Crumb bakery to Harbour cafe." in moved.inner_text()
    screenshot(page, "inbox_moved")
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        assert Event.objects.get(email=filing.tiles).project_id == filing.cafe.pk

    moved.get_by_role("button", name="Undo").click()

    page.locator(f"#email-{filing.tiles.code}:not(.filed-row)").wait_for()
    assert page.locator(f"#email-{filing.tiles.code}").get_by_role("link", name="Crumb bakery").is_visible()
    assert window_survived(page)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        assert Event.objects.get(email=filing.tiles).project_id == filing.bakery.pk
    assert refreshed(world, db_blocker, filing.tiles).project_id == filing.bakery.pk


def test_the_email_page_moves_a_filed_email_and_offers_its_undo(
    page: Any, world: BrowserWorld, sign_in: Any, filing: Filing, db_blocker: Any
) -> None:
    sign_in(world.user("member"))
    page.goto(world.url(f"/inbox/{filing.tiles.code}/"))
    panel = page.locator("#filing")
    assert "74%" in panel.inner_text()

    panel.get_by_role("combobox").select_option(label="Harbour cafe")
    panel.get_by_role("button", name="Move").click()

    page.get_by_text("Moved from Crumb bakery to Harbour cafe.").wait_for()
    screenshot(page, "email_moved")
    page.locator("#filing").get_by_role("button", name="Undo").click()
    page.get_by_text("Undone: the email is back in Crumb bakery.").wait_for()
    assert refreshed(world, db_blocker, filing.tiles).project_id == filing.bakery.pk


def test_the_project_settings_show_what_a_filing_taught_and_forget_it_on_request(
    page: Any, world: BrowserWorld, sign_in: Any, filing: Filing, db_blocker: Any
) -> None:
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        taught = list(ProjectSignal.objects.filter(project=filing.cafe).values_list("kind", "value"))
    assert ("sender", "ana@harbourhospitality.example") in taught  # the first test's filing taught it
    sign_in(world.user("member"))
    page.goto(world.url(f"/projects/{filing.cafe.code}/settings/"))
    learned = page.locator("#learned")
    assert learned.get_by_text("ana@harbourhospitality.example").is_visible()
    assert learned.get_by_text(world.user("member").email).first.is_visible()
    learned.scroll_into_view_if_needed()
    screenshot(page, "project_learned")
    mark_window(page)

    learned.get_by_role("button", name="Remove sender ana@harbourhospitality.example").click()

    page.locator("#learned").get_by_text("Forgot the sender “ana@harbourhospitality.example”.").wait_for()
    assert page.locator("#learned").get_by_text("ana@harbourhospitality.example", exact=True).count() == 0
    assert window_survived(page)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        assert not ProjectSignal.objects.filter(project=filing.cafe, kind="sender").exists()
