"""The inbox in a real browser: mail that arrives while the page is open
appears without a reload, its state follows as the worker processes it, and the filters and
search narrow the rows in place with the address following."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Email, EmailState
from projects.models import Project
from tests.browser.conftest import BrowserWorld, Recorder, screenshot

pytestmark = pytest.mark.browser


def _email(project: Project | None, **fields: Any) -> Email:
    now = timezone.now()
    defaults = {"message_id": f"<{uuid.uuid4()}@harbour.example>", "received_at": now, "date": now}
    return Email.objects.create(project=project, **{**defaults, **fields})


@pytest.fixture
def harbour(world: BrowserWorld, db_blocker: Any) -> Iterator[Project]:
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        project = Project.objects.create(name="Harbour refit", slug="harbour-refit-inbox", client_name="Harbour Homes")
        _email(
            project,
            from_address="ana@harbour.example",
            from_name="Ana Ruiz",
            subject="Survey booked",
            text="The survey is on Tuesday.",
            state=EmailState.PROCESSED,
        )
    yield project
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Email.objects.filter(message_id__endswith="@harbour.example>").delete()
        project.delete()


def test_new_mail_appears_and_its_state_follows_without_a_reload(
    page: Any, world: BrowserWorld, sign_in: Any, harbour: Project, db_blocker: Any, recorder: Recorder
) -> None:
    sign_in(world.user("member"))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(world.url("/inbox/"))
    assert page.locator("#inbox-rows").get_attribute("data-live") == "arrivals"
    page.evaluate("window.__noReload = 'still here'")

    with db_blocker.unblock(), schema_context(world.org.schema_name):
        arrived = _email(
            None,
            from_address="bo@harbour.example",
            from_name="Bo Lind",
            subject="Deck quote attached",
            text="The deck quote is 4,200 EUR.",
            state=EmailState.QUEUED,
        )
    row = page.locator(f"#email-{arrived.code}")
    row.wait_for(timeout=25_000)  # the arrival check asks every 15 s
    assert "Queued" in row.inner_text()
    assert page.locator("#inbox-rows").get_attribute("data-live") == "rows"  # now polled every 3 s
    screenshot(page, "inbox_live_arrived")

    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Email.objects.filter(pk=arrived.pk).update(state=EmailState.PROCESSED, project=harbour)
    page.locator(f"#email-{arrived.code} .state-processed").wait_for(timeout=10_000)
    assert "Harbour refit" in page.locator(f"#email-{arrived.code}").inner_text()
    assert page.locator("#inbox-rows").get_attribute("data-live") == "arrivals"  # nothing in flight any more
    assert page.evaluate("window.__noReload === 'still here'")
    screenshot(page, "inbox_live_processed")

    # Search narrows the rows in place; the address follows.
    page.locator("#inbox-q").fill("deck")
    page.wait_for_url("**/inbox/?*q=deck*")
    page.locator("text=Survey booked").wait_for(state="detached")
    assert page.locator("#inbox-rows tr").count() == 1
    assert page.evaluate("window.__noReload === 'still here'")
    screenshot(page, "inbox_search")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(world.url("/inbox/?sender=harbour.example"))
    assert page.locator("#inbox-rows tr").count() == 2
    screenshot(page, "inbox_filtered_390")
    assert recorder.console_errors == [] and recorder.page_errors == []
