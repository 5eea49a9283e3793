"""seed_demo: the demo mail through the real pipeline gives the timelines the demo shows, one
email that waits in Unfiled for the newcomer to file, and one refused sender to allow."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django_tenants.utils import schema_context

from accounts.models import User
from demo import mail
from events.models import Email, EmailState, Event, EventHistory, EventStatus, FilingState
from events.selectors import filing_rows, unfiled_count, unfiled_emails
from events.selectors_agenda import AgendaFilter, agenda
from inbound.models import Delivery, RefusalCause
from organizations.models import AllowedSender, Organization, Plan, SenderPolicy
from projects.models import Project


@pytest.fixture
def seeded(org: Organization, settings: Any, tmp_path: Path) -> Any:
    """seed_demo into the test workspace as if run at `now`; its files go to a temporary folder."""
    settings.DATA_DIR = tmp_path
    settings.DEMO_PASSWORD = "demo-password"
    # As seed_demo's own organization: the Professional plan has room for the three projects.
    Organization.objects.filter(pk=org.pk).update(sender_policy=SenderPolicy.ANYONE, plan=Plan.PROFESSIONAL)

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


@pytest.mark.parametrize("day", [0, 3])
def test_a_newcomer_finds_one_email_in_unfiled_with_sensible_suggestions(org, seeded, client_as, day):
    seeded(dt.datetime(2026, 11, 2 + day, 12, 0, tzinfo=dt.UTC))

    with schema_context(org.schema_name):
        # Every other demo email is filed, each thread in its client's project; nothing is held.
        assert set(Email.objects.values_list("state", flat=True)) == {EmailState.PROCESSED}
        assert sorted(Project.objects.values_list("name", flat=True)) == [
            "Bright Dental booking app",
            "Harbor Bakery website redesign",
            "Northwind fleet dashboard",
        ]
        assert unfiled_count() == 1
        [email] = unfiled_emails()
        assert (email.subject, email.from_address, email.project_id) == (
            "Spring menu boards",
            "priya@harborbakery.com",
            None,
        )
        assert Email.objects.get(pk=email.pk).message_id.startswith("<demo-hb5@")
        assert email.filing == FilingState.UNFILED
        assert email.filing_confidence < django_settings.PROJECTR_FILING_THRESHOLD

        # The client's website project first, then a new project for the menu boards, named as
        # a person would (client – topic), with the client's name and address ready to file.
        website = Project.objects.get(name="Harbor Bakery website redesign")
        [row] = filing_rows([email])
        assert [(s.project, s.name, s.client_name, s.client_email) for s in row.suggestions] == [
            (website, "", "", ""),
            (None, "Harbor Bakery – Spring menu boards", "Harbor Bakery", "priya@harborbakery.com"),
        ]
        scores = [s.score for s in row.suggestions]
        assert scores == sorted(scores, reverse=True)
        assert all(0 < score < django_settings.PROJECTR_FILING_THRESHOLD for score in scores)

        # Its events wait with it, on no timeline until it is filed.
        assert not Event.objects.filter(email=email).exists()
        assert [(e.title, e.date is not None) for e in row.events if e.kind == "deadline"] == [
            ("First draft due", True)
        ]

    # What the demo's owner sees on first sign-in.
    page = client_as(User.objects.get(email="owner@acme.test")).get(reverse("events:unfiled"))
    assert page.status_code == 200
    text = page.content.decode()
    for shown in ("Spring menu boards", "Harbor Bakery website redesign", "Harbor Bakery – Spring menu boards"):
        assert shown in text


def test_seeding_again_delivers_only_the_demo_mail_not_delivered_yet(org, seeded):
    now = dt.datetime(2026, 11, 4, 12, 0, tzinfo=dt.UTC)
    seeded(now)
    with schema_context(org.schema_name):
        count = Email.objects.count()
        # An organization seeded before this email was part of the demo.
        Email.objects.filter(message_id__startswith="<demo-hb5@").delete()

    seeded(now)
    seeded(now)

    with schema_context(org.schema_name):
        assert Email.objects.count() == count
        assert Email.objects.get(message_id__startswith="<demo-hb5@").filing == FilingState.UNFILED


# A week of days: whatever day the demo is seeded, its owner's first sign-in lands on an agenda
# with something overdue, something in the next two weeks, and items of their own under "Mine".
@pytest.mark.parametrize("day", range(7))
def test_the_owner_s_first_agenda_is_not_empty(org, seeded, day):
    now = dt.datetime(2026, 11, 2 + day, 12, 0, tzinfo=dt.UTC)
    seeded(now)

    with schema_context(org.schema_name):
        owner = User.objects.get(email="owner@acme.test")
        everyone = agenda(filters=AgendaFilter(), user=owner, today=now.date())
        mine = agenda(filters=AgendaFilter(mine=True), user=owner, today=now.date())
        counts = {s.key: s.count for s in everyone.sections}
        assert counts["overdue"] > 0
        assert counts["today"] + counts["this_week"] + counts["next_week"] > 0
        assert 0 < mine.count < everyone.count


def test_the_owner_finds_one_refused_sender_to_allow_and_bring_in(org, seeded, client_as):
    # The demo organization's own policy: members and its clients' domains.
    Organization.objects.filter(pk=org.pk).update(sender_policy=SenderPolicy.ALLOWLIST)
    for pattern in ("@harborbakery.com", "@northwindlogistics.com", "@brightdental.co.uk"):
        AllowedSender.objects.create(organization=org, pattern=pattern)
    seeded(dt.datetime(2026, 11, 4, 12, tzinfo=dt.UTC))
    seeded(dt.datetime(2026, 11, 4, 12, tzinfo=dt.UTC))  # a second run adds no second one

    refused = Delivery.objects.get(organization=org, cause=RefusalCause.SENDER_POLICY)
    assert refused.sender == "jonas@fjordcoffee.no" and refused.kept
    owner = User.objects.get(email="owner@acme.test")
    page = client_as(owner).get(reverse("events:inbox")).content.decode()
    assert f'id="kept-{refused.pk}"' in page
    assert "Allow this sender" in page
    assert 'class="nav-attention"' in page
