"""The daily digest as a member sees it: the HTML mail renders, and its links open the
project's timeline on the workspace host."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import schema_context

from events.digest import digest_send_organization
from events.models import Event, EventKind
from projects.models import Project
from tests.browser.conftest import BrowserWorld, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def project(world: BrowserWorld, db_blocker: Any) -> Iterator[Project]:
    today = timezone.localdate()
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        project = Project.objects.create(name="Loft conversion", slug="loft-conversion", client_name="Sam Client")
        for n, (kind, title) in enumerate(
            [
                (EventKind.MEETING, "Site visit with the structural engineer"),
                (EventKind.DEADLINE, "Planning application submitted"),
                (EventKind.PAYMENT, "Deposit invoice due"),
            ]
        ):
            Event.objects.create(project=project, kind=kind, title=title, date=today + dt.timedelta(days=n * 2))
    yield project
    with db_blocker.unblock(), schema_context(world.org.schema_name):
        Project.objects.filter(pk=project.pk).delete()


def test_the_digest_mail_links_to_the_timeline_on_the_workspace_host(
    page: Any, world: BrowserWorld, sign_in: Any, project: Project, db_blocker: Any, settings: Any
) -> None:
    # Links are built outside a request, from these settings, as the scheduled task does.
    settings.SITE_SCHEME = "http"
    settings.PUBLIC_PORT = world.base_url.rsplit(":", 1)[1]
    with db_blocker.unblock():
        # Reruns on the same day (--reuse-db keeps the cache table) must send again.
        cache.delete(f"digest-sent:{world.org.schema_name}:{timezone.localdate().isoformat()}")
        sent = digest_send_organization(world.org.schema_name)
    assert sent == len(world.users)
    html, _ = mail.outbox[0].alternatives[0]

    sign_in(world.user("member"))
    page.set_content(html)
    screenshot(page, "digest_email")

    page.get_by_role("link", name="Site visit with the structural engineer").first.click()
    page.wait_for_url(re.compile(rf"^{re.escape(world.url(f'/projects/{project.code}/'))}"))
    assert page.locator("li.event", has_text="Deposit invoice due").is_visible()
