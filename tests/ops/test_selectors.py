"""Queue figures read across every organization's schema in one query."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import EmailState
from ops.selectors import queue_figures
from tests.factories import EmailFactory


def test_it_adds_up_states_and_finds_the_oldest_queued_email_across_organizations(org, other_org):
    now = timezone.now()
    EmailFactory(state=EmailState.QUEUED, project=None, state_changed_at=now - timedelta(minutes=5))
    EmailFactory(state=EmailState.PROCESSED, project=None, state_changed_at=now - timedelta(days=2))
    with schema_context(other_org.schema_name):
        EmailFactory(state=EmailState.QUEUED, project=None, state_changed_at=now - timedelta(minutes=50))
        EmailFactory(state=EmailState.PROCESSING, project=None, state_changed_at=now)
        EmailFactory(state=EmailState.FAILED, project=None, state_reason="Extraction failed: x")

    figures = queue_figures()

    assert figures.states["queued"] == 2
    assert figures.states["processed"] == 1
    assert figures.states["failed"] == 1
    assert figures.depth == 3
    assert 49 * 60 < figures.oldest_age_seconds(now) <= 50 * 60


def test_it_reports_an_empty_queue_as_age_zero(org):
    figures = queue_figures()

    assert figures.depth == 0
    assert figures.oldest_age_seconds() == 0.0
