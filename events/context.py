"""Build the pure inputs of extraction (EmailInput, Context) from an Email row. Tenant schema.

`context_build` runs a fixed number of queries whatever the number of projects (pinned in
tests/events/test_context.py): open projects with their aliases, their recent subjects,
the thread, recent events, and the organization's own mail domains.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from django.db import connection
from django.db.models import Prefetch

from events.models import Email, Event, EventStatus
from extraction.types import Context, EmailInput, EventRef, ProjectRef, ThreadEmail
from organizations.models import Membership
from projects.models import OPEN_STATUSES, Project, ProjectAlias

MAX_PROJECTS = 50
SUBJECTS_PER_PROJECT = 5
MAX_RECENT_EVENTS = 40
RECENT_EMAILS_SCANNED = 400
# Personal mail domains are never "ours": a client on gmail.com must stay a client.
PERSONAL_DOMAINS = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
    "me.com", "aol.com", "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com",
}  # fmt: skip


def _sent_at(email: Email) -> datetime | None:
    """The Date header with the sender's own UTC offset (the database keeps only the instant, in UTC).

    "Tomorrow" written at 07:30 in Sydney is a day later than the UTC date says, and the offset
    also tells the rules provider whether 3/10 is day first.
    """
    for name, value in email.headers:
        if str(name).lower() == "date":
            try:
                parsed = parsedate_to_datetime(str(value))
            except (TypeError, ValueError, IndexError):
                break
            if parsed is not None and parsed.tzinfo is not None:
                return parsed
            break
    return email.date or email.received_at


def email_input_build(email: Email) -> EmailInput:
    return EmailInput(
        message_id=email.message_id,
        subject=email.subject,
        from_address=email.from_address,
        from_name=email.from_name,
        to=list(email.to),
        cc=list(email.cc),
        date=_sent_at(email),
        text=email.text,
        headers=[(str(name), str(value)) for name, value in email.headers],
        in_reply_to=email.in_reply_to,
        references=list(email.references),
        attachment_names=[a.filename for a in email.attachments.all()],
        project_hint=email.project_hint,
    )


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower() if address and "@" in address else ""


def _organization_domains(senders_by_project: dict[str, set[int]], client_domains: set[str]) -> list[str]:
    """Our members' domains, plus any company domain that wrote in two or more projects without
    being one of them's client: a client writes about its own projects, our staff about all."""
    domains = {d for d, projects in senders_by_project.items() if len(projects) >= 2} - client_domains
    tenant = getattr(connection, "tenant", None)
    if tenant is not None and getattr(tenant, "pk", None) is not None:
        emails = Membership.objects.filter(organization_id=tenant.pk).values_list("user__email", flat=True)
        domains |= {_domain(e) for e in emails}
    return sorted(domains - PERSONAL_DOMAINS - {""})


def context_build(email: Email) -> Context:
    """The organization's open projects, the email's thread, and recent events of the likely projects."""
    projects = list(
        Project.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True)
        .prefetch_related(Prefetch("aliases", queryset=ProjectAlias.objects.only("id", "project_id", "alias")))
        .order_by("-last_activity_at", "-created_at")[:MAX_PROJECTS]
    )
    project_ids = [p.pk for p in projects]

    subjects: dict[int, list[str]] = defaultdict(list)
    senders_by_project: dict[str, set[int]] = defaultdict(set)
    rows = (
        Email.objects.filter(project_id__in=project_ids)
        .exclude(pk=email.pk)
        .order_by("-date", "-pk")
        .values_list("project_id", "subject", "from_address")[:RECENT_EMAILS_SCANNED]
    )
    for project_id, subject, from_address in rows:
        senders_by_project[_domain(from_address)].add(project_id)
        bucket = subjects[project_id]
        if subject and subject not in bucket and len(bucket) < SUBJECTS_PER_PROJECT:
            bucket.append(subject)

    ids = [i for i in [email.in_reply_to, *email.references] if i]
    thread = (
        [
            ThreadEmail(message_id=m, subject=s, project_id=p, date=d)
            for m, s, p, d in Email.objects.filter(message_id__in=ids)
            .exclude(pk=email.pk)
            .order_by("date", "pk")
            .values_list("message_id", "subject", "project_id", "date")
        ]
        if ids
        else []
    )

    likely = {t.project_id for t in thread if t.project_id is not None} or set(project_ids)
    since = (email.date or email.received_at).date() - timedelta(days=60)
    events = (
        Event.objects.filter(project_id__in=likely, status=EventStatus.ACTIVE, deleted_at__isnull=True, date__gte=since)
        .order_by("date", "pk")
        .values_list("pk", "kind", "title", "date", "project_id")[:MAX_RECENT_EVENTS]
    )

    return Context(
        projects=[
            ProjectRef(
                id=p.pk,
                name=p.name,
                client_name=p.client_name,
                client_email=p.client_email,
                aliases=[a.alias for a in p.aliases.all()],
                recent_subjects=subjects.get(p.pk, []),
            )
            for p in projects
        ],
        thread=thread,
        recent_events=[EventRef(id=i, kind=k, title=t, date=d, project_id=p) for i, k, t, d, p in events],
        organization_domains=_organization_domains(senders_by_project, {_domain(p.client_email) for p in projects}),
        organization_name=getattr(getattr(connection, "tenant", None), "name", "") or "",
    )
