"""Suggested events in a real browser: a timeline with two suggestions (events the engine was not
sure of), one accepted and one dismissed (then undone and dismissed again) in place, without a
reload; a viewer sees them labelled but has nothing to click."""

from __future__ import annotations

import datetime as dt
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
class Timeline:
    project: Project
    walk: Event  # a suggestion to accept
    drinks: Event  # a suggestion to dismiss
    handover: Event  # an ordinary event


@pytest.fixture(scope="module")
def timeline(world: BrowserWorld, db_blocker: Any) -> Iterator[Timeline]:
    """One project whose timeline has an ordinary event and two suggestions, committed."""
    now = timezone.now()
    day = timezone.localdate() + dt.timedelta(days=6)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        project = Project.objects.create(name="Harbour cafe refit", slug="harbour-cafe-refit", client_name="Harbour")
        email = Email.objects.create(
            message_id="<refit-plans@harbour.example>",
            from_address="ana@harbour.example",
            from_name="Ana Diaz",
            subject="Refit: next week",
            text="Hello,\n\nHandover of the counter on Thursday.\nMaybe a walk-through?\nDrinks after?\n\nAna",
            received_at=now,
            date=now,
            state=EmailState.PROCESSED,
            project=project,
        )

        def event(title: str, kind: str, confidence: float, when: dt.date | None, evidence: str) -> Event:
            return Event.objects.create(
                project=project,
                email=email,
                kind=kind,
                title=title,
                date=when,
                evidence=evidence,
                confidence=confidence,
                provider="rules",
                suggested=confidence < 0.5,
            )

        handover = event("Counter handover", EventKind.MILESTONE, 0.6, day, "Handover of the counter on Thursday.")
        walk = event("Walk-through with Ana", EventKind.MEETING, 0.45, day, "Maybe a walk-through?")
        drinks = event("Drinks after the handover", EventKind.ACTION_ITEM, 0.45, None, "Drinks after?")
    yield Timeline(project=project, walk=walk, drinks=drinks, handover=handover)
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Event.objects.filter(project=project).delete()
        Email.objects.filter(project=project).delete()
        project.delete()


def reloaded(world: BrowserWorld, db_blocker: Any, event: Event) -> Event:
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        return Event.objects.get(pk=event.pk)


def test_a_member_accepts_one_suggestion_and_dismisses_another_in_place(
    page: Any, world: BrowserWorld, sign_in: Any, timeline: Timeline, db_blocker: Any, recorder: Recorder
) -> None:
    sign_in(world.user("member"))
    page.goto(world.url(f"/projects/{timeline.project.code}/"))
    walk = page.locator(f"#event-{timeline.walk.code}")
    drinks = page.locator(f"#event-{timeline.drinks.code}")
    assert page.locator("li.event.is-suggested").count() == 2
    assert walk.locator(".badge.suggested").inner_text() == "Suggested"
    assert page.locator(f"#event-{timeline.handover.code} .badge.suggested").count() == 0
    # A suggestion looks different from an ordinary event (its dashed outline).
    assert walk.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    assert page.locator(f"#event-{timeline.handover.code}").evaluate("e => getComputedStyle(e).borderTopStyle") != (
        "dashed"
    )
    screenshot(page, "suggestions")
    page.evaluate("window.__noReload = 'still here'")

    walk.get_by_role("button", name="Accept").click()

    page.locator(f"#event-{timeline.walk.code}:not(.is-suggested)").wait_for()
    accepted = page.locator(f"#event-{timeline.walk.code}")
    assert accepted.locator(".badge.suggested").count() == 0
    assert accepted.get_by_role("button", name="Done").is_visible()
    assert "accepted by member@" in (accepted.locator(".event-history").text_content() or "")
    screenshot(page, "suggestion_accepted")
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        row = Event.objects.get(pk=timeline.walk.pk)
        assert (row.suggested, row.edited_by_id) == (False, world.user("member").pk)
        assert row.history.filter(action="accepted", actor=world.user("member")).exists()

    drinks.get_by_role("button", name="Dismiss").click()

    page.locator(f"#event-{timeline.drinks.code}.deleted-row").wait_for()
    dismissed = page.locator(f"#event-{timeline.drinks.code}")
    assert "Dismissed “Drinks after the handover”." in dismissed.inner_text()
    screenshot(page, "suggestion_dismissed")
    assert reloaded(world, db_blocker, timeline.drinks).deleted_at is not None

    dismissed.get_by_role("button", name="Undo").click()  # undoable, like a delete

    page.locator(f"#event-{timeline.drinks.code}.is-suggested").wait_for()
    assert reloaded(world, db_blocker, timeline.drinks).deleted_at is None
    page.locator(f"#event-{timeline.drinks.code}").get_by_role("button", name="Dismiss").click()
    page.locator(f"#event-{timeline.drinks.code}.deleted-row").wait_for()
    assert page.evaluate("window.__noReload === 'still here'")
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        row = Event.objects.get(pk=timeline.drinks.pk)
        assert row.deleted_at is not None and row.suggested is True
        assert list(row.history.values_list("action", flat=True)) == ["dismissed", "restored", "dismissed"]
    assert recorder.console_errors == [] and recorder.page_errors == []

    # After a reload: the accepted one is an ordinary event, the dismissed one is gone.
    page.reload()
    assert page.locator("li.event.is-suggested").count() == 0
    assert page.locator(f"#event-{timeline.walk.code}").is_visible()
    assert page.locator(f"#event-{timeline.drinks.code}").count() == 0


def test_a_viewer_sees_a_suggestion_labelled_but_cannot_act_on_it(
    page: Any, world: BrowserWorld, sign_in: Any, timeline: Timeline, db_blocker: Any
) -> None:
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Event.objects.filter(pk=timeline.walk.pk).update(suggested=True)  # whatever the test above did
    sign_in(world.user("viewer"))
    page.goto(world.url(f"/projects/{timeline.project.code}/"))
    walk = page.locator(f"#event-{timeline.walk.code}")
    assert walk.locator(".badge.suggested").is_visible()
    assert walk.get_by_role("button", name="Accept").count() == 0
    assert walk.get_by_role("button", name="Dismiss").count() == 0
    screenshot(page, "suggestions_viewer")
