"""The daily digest: what changed on an organization's timelines in the last day and what is due
in the next seven days, mailed to every member who has not opted out (Membership.digest_enabled).

One schedule (`digest_send_all`, registered by `manage.py setup_schedules`) runs in the public
schema and fans out one task per organization (`digest_send_organization(schema_name)`), so a
slow or failing workspace never delays the others. Everyone in an organization sees the same
timelines, so the digest is built once per organization and sent to each member separately
(nobody sees who else receives it). An organization with nothing changed and nothing due gets
no mail at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task
from django_tenants.utils import get_public_schema_name, schema_context

from events.models import Email, Event, EventHistory, EventStatus
from organizations.models import Membership, Organization
from projects.models import ProjectStatus

logger = logging.getLogger(__name__)

WINDOW = dt.timedelta(days=1)
DUE_DAYS = 7
# A digest is a summary, not an export: past this many lines per section it links to the app.
MAX_ITEMS = 40
SCHEDULE_NAME = "events.digest"
SCHEDULE_CRON = "0 6 * * *"  # 06:00 UTC, before the working day in Europe and overnight in the Americas


@dataclass(frozen=True)
class DigestLine:
    title: str
    kind: str
    project: str
    date: dt.date | None
    time: dt.time | None
    change: str  # new, edited, rescheduled, cancelled, done, updated; "" for due items
    url: str
    # The zone its time was written in (Event.timezone): shown beside the reader's own time.
    timezone: str = ""


@dataclass
class Digest:
    organization: Organization
    since: dt.datetime
    until: dt.datetime
    changed: list[DigestLine] = field(default_factory=list)
    due: list[DigestLine] = field(default_factory=list)
    changed_more: int = 0
    due_more: int = 0
    emails_received: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.changed or self.due)

    @property
    def subject(self) -> str:
        parts = []
        if self.changed or self.changed_more:
            parts.append(f"{len(self.changed) + self.changed_more} updated")
        if self.due or self.due_more:
            parts.append(f"{len(self.due) + self.due_more} due this week")
        return f"{self.organization.name}: {', '.join(parts)}"


def _tenant_path(name: str, **kwargs: object) -> str:
    return reverse(name, urlconf=settings.ROOT_URLCONF, kwargs=kwargs or None)


def _project_url(organization: Organization, project_code: object) -> str:
    return organization.absolute_url(_tenant_path("projects:timeline", code=project_code))


def _change_of(event: Event, since: dt.datetime) -> str:
    if event.created_at >= since:
        return "new"
    if event.status == EventStatus.CANCELLED:
        return "cancelled"
    if event.status == EventStatus.SUPERSEDED:
        return "rescheduled"
    if event.done:
        return "done"
    if event.edited:
        return "edited"
    if any(entry.at >= since for entry in event.confirmations):
        return "confirmed"
    return "updated"


def _line(organization: Organization, event: Event, change: str) -> DigestLine:
    return DigestLine(
        title=event.title,
        kind=event.get_kind_display(),
        project=event.project.name,
        date=event.date,
        time=event.time,
        change=change,
        url=_project_url(organization, event.project.code),
        timezone=event.timezone,
    )


def digest_build(*, organization: Organization, now: dt.datetime | None = None) -> Digest:
    """The digest of one organization. Runs with the connection on that organization's schema."""
    until = now or timezone.now()
    since = until - WINDOW
    today = timezone.localdate(until)
    # Suggestions (Event.suggested) are not news until a person accepts them or a reply confirms them.
    visible = Event.objects.filter(deleted_at__isnull=True, suggested=False).exclude(
        project__status=ProjectStatus.ARCHIVED
    )

    changed_qs = (
        visible.filter(updated_at__gte=since, updated_at__lt=until)
        .select_related("project")
        .order_by("project__name", "date", "time", "id")
    )
    # Their confirmations, to tell a confirmed event from an otherwise updated one (one query).
    confirmations = Prefetch("history", queryset=EventHistory.objects.filter(action="confirmed"))
    changed = list(changed_qs.prefetch_related(confirmations)[: MAX_ITEMS + 1])
    due_qs = (
        visible.filter(
            status=EventStatus.ACTIVE, done=False, date__gte=today, date__lte=today + dt.timedelta(days=DUE_DAYS)
        )
        .select_related("project")
        .order_by("date", "time", "project__name", "id")
    )
    due = list(due_qs[: MAX_ITEMS + 1])

    digest = Digest(organization=organization, since=since, until=until)
    digest.changed = [_line(organization, e, _change_of(e, since)) for e in changed[:MAX_ITEMS]]
    digest.due = [_line(organization, e, "") for e in due[:MAX_ITEMS]]
    if len(changed) > MAX_ITEMS:
        digest.changed_more = changed_qs.count() - MAX_ITEMS
    if len(due) > MAX_ITEMS:
        digest.due_more = due_qs.count() - MAX_ITEMS
    digest.emails_received = Email.objects.filter(received_at__gte=since, received_at__lt=until).count()
    return digest


def digest_recipients(*, organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.filter(organization=organization, digest_enabled=True, user__is_active=True)
        .filter(~Q(user__email=""))
        .select_related("user")
        .order_by("user__email")
    )


def digest_send(*, digest: Digest, recipients: list[Membership]) -> int:
    """Mail the digest to each recipient on its own; returns how many messages went out."""
    if digest.is_empty or not recipients:
        return 0
    organization = digest.organization
    context = {
        "digest": digest,
        "organization": organization,
        "projects_url": organization.absolute_url(_tenant_path("projects:list")),
        "settings_url": organization.absolute_url(_tenant_path("workspace:team") + "#digest"),
    }
    text = render_to_string("events/email/digest.txt", context)
    html = render_to_string("events/email/digest.html", context)
    messages = []
    for membership in recipients:
        message = EmailMultiAlternatives(
            subject=digest.subject,
            body=text,
            to=[membership.user.email],
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )
        message.attach_alternative(html, "text/html")
        messages.append(message)
    with get_connection() as connection:
        return int(connection.send_messages(messages) or 0)


def digest_send_organization(schema_name: str, now: dt.datetime | None = None) -> int:
    """Task: build and mail one organization's digest. Returns the number of messages sent."""
    organization = Organization.objects.filter(schema_name=schema_name, is_active=True, is_template=False).first()
    if organization is None:
        logger.info("digest skipped: no active organization with schema %s", schema_name)
        return 0
    with schema_context(schema_name):
        digest = digest_build(organization=organization, now=now)
    if digest.is_empty:
        return 0
    # django-q2 may deliver a task twice (a retry after a timeout, a schedule run by hand):
    # at most one digest per organization and day, even if a failed send then means none.
    day = timezone.localdate(digest.until).isoformat()
    if not cache.add(f"digest-sent:{schema_name}:{day}", True, timeout=2 * 24 * 3600):
        logger.info("digest for %s already sent on %s", schema_name, day)
        return 0
    sent = digest_send(digest=digest, recipients=digest_recipients(organization=organization))
    logger.info(
        "digest for %s: %d changed, %d due, %d messages", schema_name, len(digest.changed), len(digest.due), sent
    )
    return sent


def digest_send_all() -> int:
    """The daily schedule: one digest task per active organization. Returns how many were queued."""
    schemas = list(
        Organization.objects.filter(is_active=True, is_template=False)
        .exclude(schema_name=get_public_schema_name())
        .values_list("schema_name", flat=True)
    )
    for schema_name in schemas:
        async_task("events.digest.digest_send_organization", schema_name, task_name=f"digest {schema_name}")
    return len(schemas)


def schedules_ensure() -> list[Schedule]:
    """Register the daily digest with django-q2 (idempotent: one row, found by name)."""
    from croniter import croniter

    fields = {
        "func": "events.digest.digest_send_all",
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
