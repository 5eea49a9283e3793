"""Build the pure inputs of extraction (EmailInput, Context) from an Email row. Tenant schema.

`context_build` runs a fixed number of queries whatever the number of projects (pinned in
tests/events/test_extraction_inputs.py): open projects with their aliases, their recent subjects,
the thread, recent events, and the organization's own mail domains. The batch worker shares
the organization-wide part (`OpenProjects`) between the emails of a batch.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cached_property

from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Prefetch, QuerySet

from config.sql import prepared_cursor, queryset_sql
from events.models import Email, Event, EventStatus
from extraction.calendar import MAX_CALENDAR_CHARS, MAX_CALENDARS, is_calendar
from extraction.types import Context, EmailInput, EventRef, ProjectRef, TaughtSignal, ThreadEmail
from organizations.selectors import member_emails
from organizations.storage import storage_errors
from projects.models import Project, ProjectAlias, ProjectSignal
from projects.selectors import open_projects

logger = logging.getLogger(__name__)

MAX_PROJECTS = 50
SUBJECTS_PER_PROJECT = 5
MAX_RECENT_EVENTS = 40
RECENT_EMAILS_SCANNED = 400
# How long a batch reuses one reading of the open projects: projects the batch itself creates
# are seen at once (see OpenProjects); changes by people and other processes within this time.
OPEN_PROJECTS_MAX_AGE_SECONDS = 2.0
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


def calendar_texts(files: list[str]) -> list[str]:
    """The text of each stored calendar attachment (by its file name in storage), each once:
    Google sends the same calendar inline and as invite.ics. A file that cannot be read is
    left out (the email is still processed); the storage is the organization's (current schema).
    A storage that cannot be reached raises StorageUnavailable: the email waits and is tried again
    rather than processed without its calendar."""
    texts: list[str] = []
    for name in files[:MAX_CALENDARS]:
        try:
            with storage_errors("Could not read a stored calendar"), default_storage.open(name, "rb") as handle:
                content = handle.read(MAX_CALENDAR_CHARS * 4 + 1)
        except (FileNotFoundError, ValueError):
            logger.info("Could not read a stored calendar attachment", exc_info=True)
            continue
        text = content.decode("utf-8", "replace")
        if text not in texts:
            texts.append(text)
    return texts


def email_input_build(
    email: Email, *, attachment_names: list[str] | None = None, calendar_files: list[str] | None = None
) -> EmailInput:
    """`attachment_names` and `calendar_files` (the storage names of its calendar attachments)
    when the caller already has them (the worker's claim reads them); else one query reads both."""
    if attachment_names is None or calendar_files is None:
        attachments = [(a.filename, a.content_type, a.file.name) for a in email.attachments.all()]
        attachment_names = [filename for filename, _, _ in attachments]
        calendar_files = [name for filename, kind, name in attachments if name and is_calendar(filename, kind)]
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
        attachment_names=attachment_names,
        project_hint=email.project_hint,
        calendars=calendar_texts(calendar_files) if calendar_files else [],
    )


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower() if address and "@" in address else ""


def member_domains() -> set[str]:
    """The mail domains of the active organization's members: our own people."""
    tenant = getattr(connection, "tenant", None)
    if tenant is None or getattr(tenant, "pk", None) is None:
        return set()
    emails = member_emails(organization_id=tenant.pk)
    return {_domain(e) for e in emails}


def _organization_domains(
    senders_by_project: dict[str, set[int]], client_domains: set[str], member_domains: set[str]
) -> list[str]:
    """Our members' domains, plus any company domain that wrote in two or more projects without
    being one of them's client: a client writes about its own projects, our staff about all."""
    domains = {d for d, projects in senders_by_project.items() if len(projects) >= 2} - client_domains
    return sorted((domains | member_domains) - PERSONAL_DOMAINS - {""})


@dataclass(frozen=True)
class _Organization:
    """The part of the context that is the same for every email of the organization."""

    projects: list[Project]
    # (email id, project id, subject, from address) of the latest mail filed in them, newest first
    recent: list[tuple[int, int, str, str]]
    member_domains: set[str]

    def refs(self, email_id: int) -> tuple[list[ProjectRef], list[str]]:
        """The projects as the prompt lists them and the organization's domains, for `email_id`.

        They depend on the email only when it is among the recent rows (it must not see itself):
        for every other email of a batch they are built once per reading, not once per email.
        """
        if email_id in self._recent_ids:
            return _refs(self.projects, self.recent, email_id, self.member_domains)
        refs, domains = self._refs_without_self
        return list(refs), list(domains)

    @cached_property
    def taught(self) -> list[TaughtSignal]:
        return [
            TaughtSignal(kind=signal.kind, value=signal.value, project_id=project.pk)  # type: ignore[arg-type]
            for project in self.projects
            for signal in project.signals.all()
        ]

    @cached_property
    def _recent_ids(self) -> frozenset[int]:
        return frozenset(row[0] for row in self.recent)

    @cached_property
    def _refs_without_self(self) -> tuple[list[ProjectRef], list[str]]:
        return _refs(self.projects, self.recent, None, self.member_domains)


def _refs(
    projects: list[Project], recent: list[tuple[int, int, str, str]], email_id: int | None, member_domains: set[str]
) -> tuple[list[ProjectRef], list[str]]:
    subjects: dict[int, list[str]] = defaultdict(list)
    senders_by_project: dict[str, set[int]] = defaultdict(set)
    others = [row for row in recent if row[0] != email_id][:RECENT_EMAILS_SCANNED]
    for _, project_id, subject, from_address in others:
        senders_by_project[_domain(from_address)].add(project_id)
        bucket = subjects[project_id]
        if subject and subject not in bucket and len(bucket) < SUBJECTS_PER_PROJECT:
            bucket.append(subject)
    refs = [
        ProjectRef(
            id=p.pk,
            name=p.name,
            client_name=p.client_name,
            client_email=p.client_email,
            aliases=[a.alias for a in p.aliases.all()],
            recent_subjects=subjects.get(p.pk, []),
        )
        for p in projects
    ]
    domains = _organization_domains(senders_by_project, {_domain(p.client_email) for p in projects}, member_domains)
    return refs, domains


def _organization_read(*, exclude_email: int | None, scanned: int) -> _Organization:
    projects = list(
        open_projects()
        .prefetch_related(
            Prefetch("aliases", queryset=ProjectAlias.objects.only("id", "project_id", "alias")),
            Prefetch("signals", queryset=ProjectSignal.objects.only("id", "project_id", "kind", "value")),
        )
        .order_by("-last_activity_at", "-created_at")[:MAX_PROJECTS]
    )
    rows = Email.objects.filter(project_id__in=[p.pk for p in projects])
    if exclude_email is not None:
        rows = rows.exclude(pk=exclude_email)
    recent = list(rows.order_by("-date", "-pk").values_list("pk", "project_id", "subject", "from_address")[:scanned])
    return _Organization(projects=projects, recent=recent, member_domains=member_domains())


class OpenProjects:
    """The organization-wide part of the context, shared by the threads of one batch.

    Read again when older than `max_age`, and after `changed()`: the batch calls it when an
    email created a project, so the emails after it see that project (their context then
    matches a fresh read; only the ones already in flight were built without it, as before).
    One reading scans one more recent email than the context keeps, so each email can leave
    itself out and still get RECENT_EMAILS_SCANNED others.
    """

    def __init__(
        self, *, max_age: float = OPEN_PROJECTS_MAX_AGE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Lock()
        self._generation = 0
        self._cached: tuple[int, float, _Organization] | None = None

    def changed(self) -> None:
        with self._lock:
            self._generation += 1
            self._cached = None

    def get(self) -> _Organization:
        with self._lock:
            generation, cached = self._generation, self._cached
        now = self.clock()
        if cached is not None and cached[0] == generation and now - cached[1] < self.max_age:
            return cached[2]
        reading = _organization_read(exclude_email=None, scanned=RECENT_EMAILS_SCANNED + 1)
        with self._lock:
            # A project created while we read may be missing from it: keep it for this email only.
            if self._generation == generation:
                self._cached = (generation, now, reading)
        return reading


def _recent_events_query(
    project_ids: list[int], since: date
) -> QuerySet[Event, tuple[int, str, str, date | None, int, str]]:
    return (
        Event.objects.filter(
            project_id__in=project_ids, status=EventStatus.ACTIVE, deleted_at__isnull=True, date__gte=since
        )
        .order_by("date", "pk")
        .values_list("pk", "kind", "title", "date", "project_id", "ical_uid")[:MAX_RECENT_EVENTS]
    )


@functools.lru_cache(maxsize=MAX_PROJECTS + 1)
def _recent_events_sql(projects: int) -> str:
    """The recent events query's SQL for `projects` project ids, compiled by the ORM once per process.

    Every email runs it; building and compiling the query cost more CPU than running it. Its
    parameters are the first date, the ids and the active status; its columns need no conversion.
    """
    ids, since = [-1 - n for n in range(projects)], date(1900, 1, 1)
    return queryset_sql(_recent_events_query(ids, since), [since, *ids, EventStatus.ACTIVE], "the recent events query")


def _thread_query(
    message_ids: list[str], email_id: int
) -> QuerySet[Email, tuple[str, str, int | None, datetime | None]]:
    return (
        Email.objects.filter(message_id__in=message_ids)
        .exclude(pk=email_id)
        .order_by("date", "pk")
        .values_list("message_id", "subject", "project_id", "date")
    )


@functools.lru_cache(maxsize=64)
def _thread_sql(message_ids: int) -> str:
    """The thread's SQL for `message_ids` ids, compiled by the ORM once per process (as
    `_recent_events_sql`). Its parameters are the ids, then the email's own id; its columns
    need no conversion."""
    ids = [f"\x00id{n}" for n in range(message_ids)]
    return queryset_sql(_thread_query(ids, -1), [*ids, -1], "the thread query")


def context_build(email: Email, open_projects: OpenProjects | None = None) -> Context:
    """The organization's open projects, the email's thread, and recent events of the likely projects."""
    shared = (
        open_projects.get()
        if open_projects is not None
        else _organization_read(exclude_email=email.pk, scanned=RECENT_EMAILS_SCANNED)
    )
    project_ids = [p.pk for p in shared.projects]
    project_refs, organization_domains = shared.refs(email.pk)

    thread: list[ThreadEmail] = []
    ids = list(dict.fromkeys(i for i in [email.in_reply_to, *email.references] if i))  # as the ORM's IN
    if ids:
        with prepared_cursor(on_search_path=True) as cursor:
            cursor.execute(_thread_sql(len(ids)), [*ids, email.pk])
            thread = [ThreadEmail(message_id=m, subject=s, project_id=p, date=d) for m, s, p, d in cursor.fetchall()]

    likely = {t.project_id for t in thread if t.project_id is not None} or set(project_ids)
    since = (email.date or email.received_at).date() - timedelta(days=60)
    events: list[tuple[int, str, str, date | None, int, str]] = []
    if likely:  # as the ORM: an empty IN matches nothing, no query is sent
        with prepared_cursor(on_search_path=True) as cursor:
            cursor.execute(_recent_events_sql(len(likely)), [since, *likely, str(EventStatus.ACTIVE)])
            events = cursor.fetchall()

    return Context(
        projects=project_refs,
        thread=thread,
        recent_events=[
            EventRef(id=i, kind=k, title=t, date=d, project_id=p, ical_uid=u) for i, k, t, d, p, u in events
        ],
        organization_domains=organization_domains,
        organization_name=getattr(getattr(connection, "tenant", None), "name", "") or "",
        taught=list(shared.taught),
    )
