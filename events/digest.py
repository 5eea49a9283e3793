"""The daily digest: what changed on an organization's timelines in the last day and what is due
in the next seven days, mailed to every member who has not opted out (Membership.digest_enabled).

The schedule that sends it is inbound's (inbound.digest: one task per organization, each adding
the refused mail of inbound's delivery log to `digest_send_organization`), since events sits below
inbound. Everyone in an organization sees the same timelines, so the digest is built once per
organization and sent to each member separately (nobody sees who else receives it). Admins also
get the mail that waits for them: held for review and refused since the last digest. An
organization with nothing changed, nothing due and nothing waiting gets no mail at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.zones import zone_or_none
from events.models import REVIEW_HOLD_CAUSES, Email, EmailState, Event, EventHistory, EventStatus
from organizations.models import Membership, Organization, Role
from projects.models import ProjectStatus

logger = logging.getLogger(__name__)

WINDOW = dt.timedelta(days=1)
DUE_DAYS = 7
# A digest is a summary, not an export: past this many lines per section it links to the app.
MAX_ITEMS = 40


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


@dataclass(frozen=True)
class ReviewLine:
    """Mail that waits for an admin: held for review, or refused with its message kept."""

    sender: str
    subject: str
    why: str
    at: dt.datetime
    url: str


# Reads the refused mail of [since, until) for the admins' section (inbound.digest gives it).
RefusedReader = Callable[[Organization, dt.datetime, dt.datetime], tuple[list[ReviewLine], int]]


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
    # For admins only (Role.ADMIN and up).
    held: list[ReviewLine] = field(default_factory=list)
    refused: list[ReviewLine] = field(default_factory=list)
    held_more: int = 0
    refused_more: int = 0
    review_url: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.changed or self.due)

    @property
    def waiting(self) -> bool:
        """Anything for the admins' section."""
        return bool(self.held or self.refused)

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
    held = list(
        Email.objects.filter(
            state=EmailState.HELD,
            hold_cause__in=REVIEW_HOLD_CAUSES,
            state_changed_at__gte=since,
            state_changed_at__lt=until,
        )
        .only("code", "from_address", "subject", "hold_cause", "state_changed_at")
        .order_by("-state_changed_at", "-id")[: MAX_ITEMS + 1]
    )
    digest.review_url = organization.absolute_url(_tenant_path("events:inbox") + "#review")
    digest.held = [
        ReviewLine(
            sender=e.from_address,
            subject=e.subject,
            why=e.get_hold_cause_display(),  # type: ignore[attr-defined]
            at=e.state_changed_at or until,
            url=organization.absolute_url(_tenant_path("events:email", code=e.code)),
        )
        for e in held[:MAX_ITEMS]
    ]
    digest.held_more = max(0, len(held) - MAX_ITEMS)
    return digest


def digest_recipients(*, organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.filter(organization=organization, digest_enabled=True, user__is_active=True)
        .filter(~Q(user__email=""))
        .select_related("user")
        .order_by("user__email")
    )


def _rendered(digest: Digest, *, admin: bool) -> tuple[str, str, str]:
    """(subject, text, html) of the digest as members or as admins (with the review section) read it."""
    organization = digest.organization
    context = {
        "digest": digest,
        "organization": organization,
        "admin": admin,
        "projects_url": organization.absolute_url(_tenant_path("projects:list")),
        "settings_url": organization.absolute_url(_tenant_path("workspace:team") + "#digest"),
    }
    subject = digest.subject
    if admin and digest.waiting:
        waiting = len(digest.held) + digest.held_more + len(digest.refused) + digest.refused_more
        if digest.is_empty:
            subject = f"{organization.name}: {waiting} waiting for an admin"
        else:
            subject = f"{subject}, {waiting} waiting for an admin"
    text = render_to_string("events/email/digest.txt", context)
    return subject, text, render_to_string("events/email/digest.html", context)


def digest_send(*, digest: Digest, recipients: list[Membership]) -> int:
    """Mail the digest to each recipient on its own; returns how many messages went out. Admins
    get the mail that waits for them too, and a digest even when only that is new."""
    if not recipients or (digest.is_empty and not digest.waiting):
        return 0
    versions: dict[tuple[bool, str], tuple[str, str, str]] = {}
    messages = []
    for membership in recipients:
        admin = membership.has_role(Role.ADMIN) and digest.waiting
        if digest.is_empty and not admin:
            continue
        # Each reads it in their own zone, as their pages (accounts.middleware): one rendering per zone.
        version = (admin, membership.user.time_zone)
        if version not in versions:
            with timezone.override(zone_or_none(membership.user.time_zone)):
                versions[version] = _rendered(digest, admin=admin)
        subject, text, html = versions[version]
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            to=[membership.user.email],
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )
        message.attach_alternative(html, "text/html")
        messages.append(message)
    with get_connection() as connection:
        return int(connection.send_messages(messages) or 0)


def digest_send_organization(
    schema_name: str, now: dt.datetime | None = None, *, refused: RefusedReader | None = None
) -> int:
    """Build and mail one organization's digest (inbound.digest's task gives `refused`). Returns
    the number of messages sent."""
    organization = Organization.objects.filter(schema_name=schema_name, is_active=True, is_template=False).first()
    if organization is None:
        logger.info("digest skipped: no active organization with schema %s", schema_name)
        return 0
    with schema_context(schema_name):
        digest = digest_build(organization=organization, now=now)
    if refused is not None:
        digest.refused, digest.refused_more = refused(organization, digest.since, digest.until)
    if digest.is_empty and not digest.waiting:
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
