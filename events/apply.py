"""Apply an Extraction to the tenant's data: project match or creation, events, reschedules.

Placeholder until issue #4 lands; the signature is the contract used by events.processing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from events.models import Email, Event
from extraction.types import Extraction
from organizations.models import Organization
from projects.models import Project


class ProjectLimitReached(Exception):
    """A new project is needed but the plan allows no more: the email is held."""


@dataclass
class ApplyResult:
    project: Project | None
    created_events: list[Event]
    updated_events: list[Event]
    project_created: bool = False


@transaction.atomic
def extraction_apply(*, organization: Organization, email: Email, extraction: Extraction) -> ApplyResult:
    """Store what the extraction found for `email`, replacing that email's earlier (unedited) events."""
    return ApplyResult(project=email.project, created_events=[], updated_events=[])
