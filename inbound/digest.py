"""The daily digest's schedule: events' digest (events.digest) with the refused mail of inbound's
delivery log added to the admins' section. It lives here because events sits below inbound.

One schedule (`digest_send_all`, registered by `manage.py setup_schedules`) runs in the public
schema and fans out one task per organization (`digest_send_organization(schema_name)`), so a
slow or failing workspace never delays the others.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task
from django_tenants.utils import get_public_schema_name

from events import digest as events_digest
from events.digest import MAX_ITEMS, ReviewLine
from inbound.models import RefusalCause
from inbound.selectors import refused_waiting
from organizations.models import Organization

# The name it had when the digest was events' alone: an install's row is updated, not doubled.
SCHEDULE_NAME = "events.digest"
SCHEDULE_CRON = "0 6 * * *"  # 06:00 UTC, before the working day in Europe and overnight in the Americas


def refused_lines(organization: Organization, since: dt.datetime, until: dt.datetime) -> tuple[list[ReviewLine], int]:
    """Mail the sender policy refused in [since, until) and kept for an admin: one query."""
    rows = list(
        refused_waiting(organization, since=since)
        .filter(created_at__lt=until)
        .only("sender", "subject", "created_at", "cause")[: MAX_ITEMS + 1]
    )
    lines = [
        ReviewLine(
            sender=d.sender,
            subject=d.subject,
            why=RefusalCause(d.cause).label,
            at=d.created_at,
            url=organization.absolute_url("/inbox/#review"),
        )
        for d in rows[:MAX_ITEMS]
    ]
    return lines, max(0, len(rows) - MAX_ITEMS)


def digest_send_organization(schema_name: str, now: dt.datetime | None = None) -> int:
    """Task: build and mail one organization's digest. Returns the number of messages sent."""
    return events_digest.digest_send_organization(schema_name, now, refused=refused_lines)


def digest_send_all() -> int:
    """The daily schedule: one digest task per active organization. Returns how many were queued."""
    schemas = list(
        Organization.objects.filter(is_active=True, is_template=False)
        .exclude(schema_name=get_public_schema_name())
        .values_list("schema_name", flat=True)
    )
    for schema_name in schemas:
        async_task("inbound.digest.digest_send_organization", schema_name, task_name=f"digest {schema_name}")
    return len(schemas)


def schedules_ensure() -> list[Schedule]:
    """Register the daily digest with django-q2 (idempotent: one row, found by name)."""
    from croniter import croniter

    fields = {
        "func": "inbound.digest.digest_send_all",
        "schedule_type": Schedule.CRON,
        "cron": SCHEDULE_CRON,
        "repeats": -1,
    }
    # The first run is the next 06:00, not "now": a fresh install should not mail everyone at once.
    first_run = croniter(SCHEDULE_CRON, timezone.now()).get_next(dt.datetime)
    schedule, _ = Schedule.objects.update_or_create(
        name=SCHEDULE_NAME, defaults=fields, create_defaults={**fields, "next_run": first_run}
    )
    return [schedule]
