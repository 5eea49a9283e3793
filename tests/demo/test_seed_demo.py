"""seed_demo: the demo mail through the real pipeline gives the timelines the demo shows."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from demo import mail
from events.models import Event, EventHistory, EventStatus
from organizations.models import Organization, SenderPolicy


@pytest.fixture
def seeded(org: Organization, settings: Any, tmp_path: Path) -> Any:
    """seed_demo into the test workspace as if run at `now`; its files go to a temporary folder."""
    settings.DATA_DIR = tmp_path
    settings.DEMO_PASSWORD = "demo-password"
    Organization.objects.filter(pk=org.pk).update(sender_policy=SenderPolicy.ANYONE)

    def seed(now: dt.datetime) -> None:
        def build_messages(_now: dt.datetime, inbound_address: str) -> list[tuple[str, bytes]]:
            return mail.build_messages(now, inbound_address)

        with mock.patch("demo.management.commands.seed_demo.build_messages", build_messages):
            call_command("seed_demo", "--slug", org.slug, stdout=StringIO())

    return seed


# A week of days, so that "next Tuesday" and the reply's "Tuesday" meet whatever day the demo is seeded.
@pytest.mark.parametrize("day", range(7))
def test_the_harbor_bakery_kickoff_is_one_meeting_confirmed_by_the_reply(org, seeded, day):
    seeded(dt.datetime(2026, 11, 2 + day, 12, 0, tzinfo=dt.UTC))

    with schema_context(org.schema_name):
        meetings = list(
            Event.objects.filter(
                project__name__icontains="Harbor", kind="meeting", status=EventStatus.ACTIVE, deleted_at__isnull=True
            )
        )
        assert [m.time for m in meetings] == [dt.time(10, 0)]
        kickoff = meetings[0]
        assert kickoff.email.message_id.startswith("<demo-hb1@")
        [confirmation] = EventHistory.objects.filter(event=kickoff, action="confirmed")
        assert confirmation.email.message_id.startswith("<demo-hb2@")
