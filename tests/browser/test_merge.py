"""Merging projects in a real browser: the settings choose nothing for you, the
review page says what moves, only its button merges, and Undo brings the project back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Email, EmailState, Event, EventKind
from projects.models import Project, ProjectAlias, ProjectMerge
from tests.browser.conftest import BrowserWorld, Recorder, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def pair(world: BrowserWorld, db_blocker: Any) -> Iterator[tuple[Project, Project]]:
    now = timezone.now()
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        source = Project.objects.create(name="Loft (old)", slug=f"loft-old-{uuid.uuid4().hex[:6]}")
        target = Project.objects.create(name="Loft conversion", slug=f"loft-{uuid.uuid4().hex[:6]}")
        ProjectAlias.objects.create(project=source, alias=f"LC-{uuid.uuid4().hex[:4]}")
        for n in range(2):
            email = Email.objects.create(
                project=source, message_id=f"<loft-{uuid.uuid4()}@client.example>", subject=f"Loft {n}",
                received_at=now, date=now, state=EmailState.PROCESSED, from_address="pm@client.example",
            )  # fmt: skip
            Event.objects.create(project=source, email=email, kind=EventKind.MEETING, title=f"Loft visit {n}")
    yield source, target
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        ProjectMerge.objects.filter(source=source).delete()
        Event.objects.filter(project__in=[source, target]).delete()
        Email.objects.filter(project__in=[source, target]).delete()
        ProjectAlias.objects.filter(project__in=[source, target]).delete()
        Project.objects.filter(pk__in=[source.pk, target.pk]).delete()


def test_a_member_reviews_confirms_and_undoes_a_merge(
    page: Any, world: BrowserWorld, sign_in: Any, pair: tuple[Project, Project], db_blocker: Any, recorder: Recorder
) -> None:
    source, target = pair
    sign_in(world.user("member"))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(world.url(f"/projects/{source.code}/settings/"))
    select = page.locator("#merge select[name=target]")
    assert select.input_value() == ""  # nothing preselected
    select.select_option(str(target.code))
    page.locator("#merge button", has_text="Review merge").click()

    page.wait_for_url(f"**/projects/{source.code}/merge/?target={target.code}")
    summary = page.locator(".merge-summary").inner_text()
    assert "2 emails" in summary and "2 events" in summary and "1 other name" in summary
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        assert Project.objects.get(pk=source.pk).merged_into_id is None  # reviewing moved nothing
    screenshot(page, "merge_confirm")

    page.locator("button", has_text="Merge into Loft conversion").click()
    page.wait_for_url("**/projects/merges/*/")
    assert "“Loft (old)” was merged into “Loft conversion”" in page.locator("h1").inner_text()
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        assert Event.objects.filter(project=target).count() == 2
    screenshot(page, "merge_done")

    page.locator("button", has_text="Undo the merge").click()
    page.wait_for_url(f"**/projects/{source.code}/")
    assert "The merge was undone" in page.content()
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        back = Project.objects.get(pk=source.pk)
        assert back.merged_into_id is None
        assert Event.objects.filter(project=source).count() == 2
        assert Email.objects.filter(project=source).count() == 2
        assert not ProjectAlias.objects.filter(project=target, alias="Loft (old)").exists()
    screenshot(page, "merge_undone")
    assert recorder.console_errors == [] and recorder.page_errors == []
