"""Apply an Extraction to the organization's data: the project (matched, or created within the
plan), new events, reschedules, cancellations, confirmations and suggestions.

All of it in the worker's one transaction, and idempotent: re-processing an email replaces
exactly that email's unedited events (what they superseded or cancelled restored first), and
events a person edited are never touched. The match order and the rules for confirmations and
suggestions: docs/extraction.md, "Filing" and "Applying".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q, QuerySet, Subquery
from django.utils import timezone

from config.sql import RowReader, prepared_cursor, queryset_sql, rows_insert
from events.models import Email, EmailLog, Event, EventHistory, EventStatus, FilingState
from extraction.text import address_domain
from extraction.types import ExtractedEvent, Extraction, InvitationRef, ProjectDecision
from extraction.words import GENERIC_MAIL_DOMAINS, _folded
from organizations.models import Organization
from projects.models import OPEN_STATUSES, Project, ProjectAlias, ProjectSignal, SignalKind
from projects.services import ProjectLimitError, project_get_or_create

SNAPSHOT_FIELDS = ("kind", "title", "date", "time", "status")


class ProjectLimitReached(Exception):
    """A new project is needed but the plan allows no more: the email is held."""


@dataclass
class ApplyResult:
    project: Project | None
    created_events: list[Event]
    updated_events: list[Event]
    project_created: bool = False
    # Earlier events this email mentioned again: no new event, a "confirmed" history row on each.
    confirmed_events: list[Event] = field(default_factory=list)
    filing: str = ""  # events.models.FilingState
    filing_reason: str = ""
    waiting: dict[str, Any] = field(default_factory=dict)  # an unfiled email's events, until it is filed


PROJECT_ROWS = RowReader(Project)
EVENT_ROWS = RowReader(Event)
# How far back an unfiled email can corroborate a new project another email proposes.
CORROBORATION_WINDOW = timedelta(days=90)
YEAR = re.compile(r"\b20\d\d\b")
THREAD_WAITS = "its thread waits in Unfiled"
THREAD_FOLLOWS = "same thread"


def _snapshot(event: Event) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(event, name)
        values[name] = value.isoformat() if isinstance(value, date | time) else value
    return values


def _event_change(
    event: Event, *, action: str, email: Email, note: str, after: dict[str, Any] | None = None, **fields: Any
) -> None:
    """Change an earlier event in place (cancelled, paid, …) and record it with its state before
    and after, in one UPDATE and one history row."""
    before = _snapshot(event)
    Event.objects.filter(pk=event.pk).update(**fields, updated_at=timezone.now())
    for name, value in fields.items():
        setattr(event, name, value)
    EventHistory.objects.create(
        event=event,
        action=action,
        email=email,
        before=before,
        after={**_snapshot(event), **(after or {})},
        note=note[:500],
    )


def _thread_project(email: Email) -> Project | None:
    ids = [i for i in [email.in_reply_to, *email.references] if i]
    if not ids:
        return None
    unique_ids = list(dict.fromkeys(ids))  # as the ORM's IN: each id once
    with prepared_cursor(on_search_path=True) as cursor:
        cursor.execute(_thread_project_sql(len(unique_ids)), [*unique_ids, email.pk])
        row = cursor.fetchone()
    return PROJECT_ROWS.instance(row) if row is not None else None


def _thread_project_query(message_ids: list[str], email_id: int) -> QuerySet[Project, tuple[Any, ...]]:
    # Only the project's id from the earlier emails (their text, HTML and headers are not needed),
    # and the project's row in the same statement.
    latest = (
        Email.objects.filter(message_id__in=message_ids, project__isnull=False, project__merged_into__isnull=True)
        .exclude(pk=email_id)
        .order_by("-date", "-pk")
        .values_list("project_id", flat=True)[:1]
    )
    return Project.objects.filter(pk=Subquery(latest)).values_list(*PROJECT_ROWS.attnames)


@functools.lru_cache(maxsize=64)
def _thread_project_sql(message_ids: int) -> str:
    """The thread match's SQL for `message_ids` ids, compiled by the ORM once per process (see
    `_named_project_sql`); its parameters are the message ids, then the email's own id."""
    ids = [f"\x00id{n}" for n in range(message_ids)]
    return queryset_sql(_thread_project_query(ids, -1), [*ids, -1], "the thread match")


def project_match(*, email: Email, extraction: Extraction) -> Project | None:
    """The existing project this email belongs to, or None when a new one is needed (or none at all)."""
    return project_decide(email=email, extraction=extraction)[0]


def project_decide(*, email: Email, extraction: Extraction) -> tuple[Project | None, str, str]:
    """(project, filing state, reason): where the email goes, and whether that is sure enough.

    The `slug+hint@` address, the email's own filing (re-processing keeps it), and the thread
    decide on their own. The provider's decision files only when it is sure (a taught sender) or
    at least as confident as PROJECTR_FILING_THRESHOLD; otherwise the email is Unfiled and waits
    for a person. A new project is named here but created by the caller (`_project_create`).
    """
    if email.project_hint:
        hinted = Project.objects.filter(slug=email.project_hint.lower(), merged_into__isnull=True).first()
        if hinted is None:
            alias = ProjectAlias.objects.filter(alias__iexact=email.project_hint).select_related("project").first()
            hinted = alias.project if alias else None
        if hinted is not None:
            return hinted, FilingState.AUTO, "its address names the project"
    if email.project_id is not None:
        filed = Project.objects.filter(pk=email.project_id, merged_into__isnull=True).first()
        if filed is not None:
            kept = email.filing if email.filing in (FilingState.AUTO, FilingState.HAND) else FilingState.AUTO
            return filed, kept, email.filing_reason or "filed before"
    if email.filing == FilingState.NOT_PROJECT and email.filings.exists():
        return None, FilingState.NOT_PROJECT, "a person said it is not project mail"
    threaded = _thread_project(email)
    if threaded is not None:
        return threaded, FilingState.AUTO, "same thread"
    thread_ids = [i for i in [email.in_reply_to, *email.references] if i]
    if thread_ids and Email.objects.filter(message_id__in=thread_ids, filing=FilingState.UNFILED).exists():
        # Its thread waits for a person: the answer will file the whole thread (events.filing).
        return None, FilingState.UNFILED, THREAD_WAITS
    decision = extraction.project
    if decision.action == "none":
        return None, FilingState.NOT_PROJECT, decision.reason or "not about a project"
    confident = decision.sure or decision.confidence >= settings.PROJECTR_FILING_THRESHOLD
    reason = decision.reason or decision.action
    if decision.action == "existing" and decision.project_id is not None:
        matched = Project.objects.filter(pk=decision.project_id, merged_into__isnull=True).first()
        if matched is not None:
            return (matched, FilingState.AUTO, reason) if confident else (None, FilingState.UNFILED, reason)
    if decision.action == "new" and decision.name:
        named = _named_project(decision.name)
        if named is not None and confident:
            return named, FilingState.AUTO, "a project of that name"
        return None, FilingState.AUTO if confident else FilingState.UNFILED, reason
    return None, FilingState.UNFILED, reason


def _topic(name: str, client_name: str, organization_name: str) -> set[str]:
    """What a proposed project is about: its name's words less the client's and ours, plus years.
    Short words ("PoC", "UAT", "app") name a kind of work that any project may have."""
    words = _folded(name) - _folded(client_name) - _folded(organization_name)
    return {w for w in words if len(w) >= 4} | set(YEAR.findall(name))


def _client_key(address: str) -> str:
    """Whose proposal: the company domain, or the address itself at a personal mail domain."""
    address = (address or "").strip().lower()
    domain = address_domain(address)
    return address if not domain or domain in GENERIC_MAIL_DOMAINS else domain


def _proposal(extraction: Extraction) -> tuple[str, str, str] | None:
    decision = extraction.project
    if decision.action == "new" and decision.name:
        return decision.name, decision.client_name, decision.client_email
    for candidate in decision.candidates:
        if candidate.project_id is None and candidate.name:
            return candidate.name, candidate.client_name, candidate.client_email
    return None


def _corroborating(*, email: Email, extraction: Extraction, organization: Organization) -> list[Email]:
    """Unfiled emails of other threads that propose the same new project as this one.

    One email about a new topic from a client we have a project with may belong to that project or
    start another, so it waits for a person. A second conversation, started apart from the first,
    from the same client and naming the same new thing (a site, a product, another year: a word of
    the proposed name that no open project is named with and the client's mail has not used) is
    the evidence a person would use: the project exists. HubSpot and Front file by such agreement
    of independent signals.
    """
    proposal = _proposal(extraction)
    if proposal is None:
        return []
    name, client_name, client_email = proposal
    key = _client_key(client_email)
    topic = _topic(name, client_name, organization.name)
    if not key or not topic:
        return []
    # Words an open project is named with, or that the client's own projects' mail already uses.
    open_projects = Project.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True)
    theirs, their_names = [], []
    for pk, taken, client in open_projects.values_list("pk", "name", "client_email"):
        topic -= _folded(taken) | set(YEAR.findall(taken))
        if client and _client_key(client) == key:
            theirs.append(pk)
            their_names.append(taken)
    taught = ProjectSignal.objects.filter(
        kind__in=[SignalKind.SENDER, SignalKind.DOMAIN], value=key, project__status__in=OPEN_STATUSES
    )
    theirs += [pk for pk in taught.values_list("project_id", flat=True) if pk not in theirs]
    if not theirs:
        # Someone we have no project with, writing twice (a prospect, or a vendor's pitches and
        # receipts): a person decides whether that is work.
        return []
    subjects = list(
        Email.objects.filter(project_id__in=theirs).order_by("-date").values_list("subject", flat=True)[:100]
    )
    topic -= set().union(set(), *(_folded(subject) for subject in subjects))
    # A year says "another project" only beside a project of another year ("Oceano Vivo 2026").
    if not YEAR.search(" ".join([*their_names, *subjects])):
        topic = {w for w in topic if not YEAR.fullmatch(w)}
    if not topic:
        return []
    thread = {i for i in [email.message_id, email.in_reply_to, *email.references] if i}
    since = (email.date or timezone.now()) - CORROBORATION_WINDOW
    waiting = (
        Email.objects.filter(filing=FilingState.UNFILED, received_at__gte=since)
        .exclude(pk=email.pk)
        .order_by("date", "pk")[:200]
    )
    found = []
    for other in waiting:
        if thread & {i for i in [other.message_id, other.in_reply_to, *other.references] if i}:
            continue
        for candidate in other.suggestions or []:
            if candidate.get("project") is None and candidate.get("name"):
                if _client_key(candidate.get("client_email", "")) == key and topic & _topic(
                    candidate["name"], candidate.get("client_name", ""), organization.name
                ):
                    found.append(other)
                break
    # One conversation counts once: a reply among them follows its thread (_waiting_join).
    starts = {e.message_id for e in found}
    return [e for e in found if not starts & {e.in_reply_to, *e.references}]


def _corroborated(extraction: Extraction, corroborating: list[Email]) -> Extraction:
    """The decision to start the project the emails agree on, named as the earliest proposed it."""
    earliest = next(c for c in corroborating[0].suggestions if c.get("project") is None and c.get("name"))
    count = len(corroborating) + 1
    decision = replace(
        extraction.project,
        action="new",
        project_id=None,
        name=earliest["name"],
        client_name=earliest.get("client_name", ""),
        client_email=earliest.get("client_email", ""),
        reason=f"a new project that {count} separate conversations name",
    )
    return replace(extraction, project=decision)


def _waiting_join(emails: list[Email], *, project: Project, organization: Organization, reason: str) -> None:
    """File the unfiled emails that corroborated a new project into it, with their replies.

    Locked and read again: another worker (or a person filing by hand) may have taken one since."""
    emails = list(
        Email.objects.select_for_update(skip_locked=True)
        .filter(pk__in=[e.pk for e in emails], filing=FilingState.UNFILED)
        .order_by("date", "pk")
    )
    ids = [e.message_id for e in emails if e.message_id]
    replies = list(
        Email.objects.select_for_update(skip_locked=True)
        .filter(filing=FilingState.UNFILED)
        .filter(Q(in_reply_to__in=ids) | Q(references__overlap=ids))
        .exclude(pk__in=[e.pk for e in emails])
    )
    for other in [*emails, *sorted(replies, key=lambda e: (e.date or e.received_at, e.pk))]:
        other.project, other.filing = project, FilingState.AUTO
        other.filing_reason = (reason if other in emails else THREAD_FOLLOWS)[:200]
        if other.waiting.get("events"):
            extraction_apply_in_transaction(
                organization=organization,
                email=other,
                extraction=extraction_from_waiting(other.waiting, project=project),
                first_run=not Event.objects.filter(email=other).exists(),
            )
        other.save(update_fields=["project", "filing", "filing_reason"])
        EmailLog.objects.create(
            email=other, state=other.state, message=f"Filed into {project.name}: {other.filing_reason}"
        )


def suggestions_of(extraction: Extraction) -> list[dict[str, Any]]:
    """The decision's ranked candidates as stored on the email (Email.suggestions)."""
    return [
        {
            "project": c.project_id,
            "score": round(float(c.score), 2),
            "name": c.name,
            "client_name": c.client_name,
            "client_email": c.client_email,
        }
        for c in extraction.project.candidates[:3]
    ]


def waiting_of(extraction: Extraction) -> dict[str, Any]:
    """The extraction's events as JSON, kept on an unfiled email until it is filed."""
    return {
        "provider": extraction.provider,
        "model": extraction.model,
        "summary": extraction.summary,
        "events": [
            {
                "kind": e.kind,
                "title": e.title,
                "date": e.date.isoformat() if e.date else None,
                "time": e.time.isoformat() if e.time else None,
                "timezone": e.timezone,
                "people": list(e.people),
                "amount": str(e.amount) if e.amount is not None else None,
                "currency": e.currency,
                "evidence": e.evidence,
                "confidence": e.confidence,
                "updates_event_id": e.updates_event_id,
                "update_action": e.update_action,
            }
            for e in extraction.events
        ],
    }


def extraction_from_waiting(waiting: dict[str, Any], *, project: Project) -> Extraction:
    """The kept extraction of an unfiled email, as though it had decided on `project`."""
    events = [
        ExtractedEvent(
            kind=item["kind"],
            title=item["title"],
            date=date.fromisoformat(item["date"]) if item.get("date") else None,
            time=time.fromisoformat(item["time"]) if item.get("time") else None,
            timezone=item.get("timezone", ""),
            people=list(item.get("people", [])),
            amount=Decimal(item["amount"]) if item.get("amount") is not None else None,
            currency=item.get("currency", ""),
            evidence=item.get("evidence", ""),
            confidence=float(item.get("confidence", 0.5)),
            updates_event_id=item.get("updates_event_id"),
            update_action=item.get("update_action", ""),
            invitation=_invitation_from_json(item.get("invitation")),
        )
        for item in waiting.get("events", [])
    ]
    return Extraction(
        project=ProjectDecision(action="existing", project_id=project.pk, confidence=1.0, sure=True),
        events=events,
        summary=waiting.get("summary", ""),
        usage=[],
        provider=waiting.get("provider", ""),
        model=waiting.get("model", ""),
    )


def _named_project(name: str) -> Project | None:
    """The open project named or aliased `name`, if any."""
    with prepared_cursor(on_search_path=True) as cursor:
        cursor.execute(_named_project_sql(), [name, name, *map(str, OPEN_STATUSES)])
        row = cursor.fetchone()
    return PROJECT_ROWS.instance(row) if row is not None else None


@functools.cache
def _named_project_sql() -> str:
    """The open project named or aliased so (as `.first()`: the model's ordering, one row), compiled once.

    The worker asks this for nearly every email; building and compiling the query each time cost
    more CPU than running it. The ORM still writes the SQL, from a sentinel name.
    """
    sentinel = "\x00name"
    named = Project.objects.filter(
        Q(name__iexact=sentinel) | Q(aliases__alias__iexact=sentinel),
        status__in=OPEN_STATUSES,
        merged_into__isnull=True,
    )
    named = named if named.ordered else named.order_by("pk")
    return queryset_sql(
        named.values_list(*PROJECT_ROWS.attnames)[:1], [sentinel, sentinel, *OPEN_STATUSES], "the project name match"
    )


def _project_create(
    *, organization: Organization, extraction: Extraction, active_at: datetime | None = None
) -> tuple[Project, bool]:
    """The new project the decision proposes, through the one creation service (plan limit, slug,
    name as the dashboard's and the API's): (project, created). An open project of that name,
    made since project_decide looked by a worker handling another email of the thread, is the
    twin the service returns (created False). Over the plan's limit the email is held."""
    decision = extraction.project
    client_email = decision.client_email.strip()
    try:
        validate_email(client_email)
    except ValidationError:
        client_email = ""  # the service refuses a malformed address; a proposal just goes without it
    try:
        return project_get_or_create(
            organization=organization,
            actor=None,
            name=decision.name,
            client_name=decision.client_name,
            client_email=client_email,
            active_at=active_at,
        )
    except ProjectLimitError as error:
        allows = str(error.limit) if error.limit is not None else "no more"
        raise ProjectLimitReached(f"the plan allows {allows} open projects") from error


def _revert_earlier_run(email: Email) -> None:
    """Undo what a previous run for this email did, except events a person edited."""
    previous = Event.objects.filter(email=email, edited=False)
    EventHistory.objects.filter(email=email, action__in=INVITATION_NOTES).delete()
    withdrawn = EventHistory.objects.filter(email=email, action="confirmed")
    Event.objects.filter(pk__in=withdrawn.values("event_id")).update(updated_at=timezone.now())
    withdrawn.delete()
    # An event of this email that other emails confirmed passes to the earliest of them, so a
    # meeting they still mention does not vanish with this run. Before the restores below: an
    # event it superseded is then still superseded, and applying the email again confirms the
    # event instead of rescheduling the earlier one a second time.
    handed: set[int] = set()
    confirmations = EventHistory.objects.filter(event__in=previous, action="confirmed", email__isnull=False)
    for confirmation in confirmations.order_by("at", "id"):
        if confirmation.event_id not in handed:
            handed.add(confirmation.event_id)
            Event.objects.filter(pk=confirmation.event_id).update(
                email_id=confirmation.email_id,
                evidence=confirmation.note,
                confidence=confirmation.after.get("confidence", F("confidence")),
            )
            confirmation.delete()
    for event in Event.objects.filter(superseded_by__in=previous, status=EventStatus.SUPERSEDED):
        before = _snapshot(event)
        Event.objects.filter(pk=event.pk).update(status=EventStatus.ACTIVE, superseded_by=None)
        EventHistory.objects.create(
            event=event, action="restored", email=email, before=before, note="re-processing its source email"
        )
    paid_ids = EventHistory.objects.filter(email=email, action="paid").values_list("event_id", flat=True)
    Event.objects.filter(pk__in=paid_ids, done=True, edited=False).update(done=False)
    cancelled_ids = EventHistory.objects.filter(email=email, action="cancelled").values_list("event_id", flat=True)
    for event in Event.objects.filter(pk__in=cancelled_ids, status=EventStatus.CANCELLED):
        Event.objects.filter(pk=event.pk).update(status=EventStatus.ACTIVE)
        EventHistory.objects.create(
            event=event, action="restored", email=email, before=_snapshot(event), note="re-processing its source email"
        )
    previous.delete()


def _event_values(item: ExtractedEvent, extraction: Extraction) -> dict[str, Any]:
    amount = item.amount if item.kind == "payment" else None
    if amount is not None and abs(amount) >= Decimal("1e12"):
        amount = None
    return {
        "kind": item.kind,
        "title": item.title[:300] or item.kind.replace("_", " ").capitalize(),
        "date": item.date,
        "time": item.time if item.date else None,
        "timezone": item.timezone[:64],
        "people": list(item.people)[:20],
        "amount": amount,
        "currency": item.currency[:3] if amount is not None else "",
        "evidence": item.evidence,
        "confidence": item.confidence,
        "provider": extraction.provider[:30],
        "model": extraction.model[:100],
        **_invitation_values(item),
    }


def _suggested(values: dict[str, Any], *, earlier: Event | None) -> bool:
    """Whether a new event is only a suggestion (Event.suggested): extracted less surely than
    PROJECTR_EVENT_SUGGESTION_THRESHOLD. A move of an event already on the timeline never is: the
    earlier event is superseded in the same step, and a suggestion in its place would take the
    meeting off every calendar until someone accepted it."""
    return earlier is None and float(values["confidence"]) < settings.PROJECTR_EVENT_SUGGESTION_THRESHOLD


def _suggestions_confirmed(events: list[Event], *, email: Email) -> None:
    """The suggestions among the events this email confirmed become events like any other: a
    reply that says it again does what a person's Accept does (an "accepted" row names the email).
    No query unless the email confirmed a suggestion."""
    suggestions = [event for event in events if event.suggested]
    if not suggestions:
        return
    Event.objects.filter(pk__in=[event.pk for event in suggestions]).update(suggested=False, updated_at=timezone.now())
    EventHistory.objects.bulk_create(
        EventHistory(event=event, action="accepted", email=email, note="a later email confirmed it")
        for event in suggestions
    )
    for event in suggestions:
        event.suggested = False


def _confirmation_key(kind: str, day: date | None, at: time | None, title: str, amount: Decimal | None) -> Any:
    """What makes two events one: kind and date, then the time, else (untimed) the title; for a
    payment also the amount. None for an undated event, which never matches another."""
    if day is None:
        return None
    return (kind, day, at or title.casefold(), amount if kind == "payment" else None)


def _confirmable_events(*, project: Project, email: Email, items: list[dict[str, Any]]) -> dict[Any, Event]:
    """The project's active events that `items` (event values) would repeat, by confirmation key:
    one query, for the dates of the items, and none when no item has a date."""
    dates = sorted({values["date"] for values in items if values["date"] is not None})
    if not dates:
        return {}
    with prepared_cursor(on_search_path=True) as cursor:
        cursor.execute(_confirmable_events_sql(len(dates)), [*dates, project.pk, EventStatus.ACTIVE.value])
        rows = cursor.fetchall()
    found: dict[Any, Event] = {}
    for row in rows:  # oldest first: the first of two twins already on the timeline is the one
        event = EVENT_ROWS.instance(row)
        if event.email_id != email.pk:  # its own events (kept edits) are not "earlier"
            key = _confirmation_key(event.kind, event.date, event.time, event.title, event.amount)
            found.setdefault(key, event)
    return found


@functools.lru_cache(maxsize=32)
def _confirmable_events_sql(dates: int) -> str:
    """The confirmation lookup's SQL for `dates` dates, compiled by the ORM once per process (see
    `_named_project_sql`); its parameters are the dates, the project's id and the active status."""
    placeholders = [date(1, 1, 1) + timedelta(days=n) for n in range(dates)]
    events = Event.objects.filter(
        date__in=placeholders, deleted_at__isnull=True, project_id=-1, status=EventStatus.ACTIVE
    ).order_by("pk")
    return queryset_sql(
        events.values_list(*EVENT_ROWS.attnames),
        [*placeholders, -1, EventStatus.ACTIVE.value],
        "the confirmation lookup",
    )


def _confirm(
    same: Event, *, email: Email, item: ExtractedEvent, values: dict[str, Any], confirmed: list[Event]
) -> None:
    """A "confirmed" history row on `same`, which this email's item says again."""
    if same in confirmed:  # said twice in one email: confirmed once
        return
    EventHistory.objects.create(
        event=same,
        action="confirmed",
        email=email,
        note=item.evidence[:500],
        # This email's own reading: the timeline combines it (Event.corroborated_confidence).
        after={"confidence": values["confidence"]},
    )
    # Its API representation (confirmed_by) and its sureness changed: sync clients and the
    # digest see it by its updated_at. An invitation to it from now on finds it by its UID.
    changes: dict[str, Any] = {"updated_at": timezone.now()}
    if values.get("ical_uid") and not same.ical_uid:
        changes.update(ical_uid=values["ical_uid"], ical_sequence=values["ical_sequence"])
    Event.objects.filter(pk=same.pk).update(**changes)
    confirmed.append(same)


# --- Calendar invitations (extraction.calendar; docs/extraction.md, "Calendar invitations") ---

# History rows an invitation leaves without changing the event, removed when its email is re-processed.
INVITATION_NOTES = ("replied", "occurrence cancelled", "occurrence moved")


def _invitation_values(item: ExtractedEvent) -> dict[str, Any]:
    invitation = item.invitation
    if invitation is None:
        return {}
    where = [f"Where: {invitation.location}"] if invitation.location else []
    repeats = [f"Repeats {invitation.recurrence}."] if invitation.recurrence else []
    return {
        "ical_uid": invitation.uid[:500],
        "ical_sequence": max(0, invitation.sequence),
        "description": "\n".join(where + repeats),
    }


def _invitation_uids(items: list[ExtractedEvent]) -> list[str]:
    return sorted({i.invitation.uid[:500] for i in items if i.invitation is not None and i.invitation.uid})


def _invitation_project(*, email: Email, extraction: Extraction) -> tuple[Project, str, str] | None:
    """The project of a meeting on the timeline that one of the email's invitations is about: an
    update, cancellation or answer goes where the meeting is, as surely as a thread's reply."""
    uids = _invitation_uids(extraction.events)
    if not uids:
        return None
    event = (
        Event.objects.filter(ical_uid__in=uids, deleted_at__isnull=True, project__merged_into__isnull=True)
        .exclude(email=email)
        .select_related("project")
        .order_by("-pk")
        .first()
    )
    return (event.project, FilingState.AUTO, "an invitation to a meeting on its timeline") if event else None


def _known_invitations(*, email: Email, items: list[ExtractedEvent]) -> dict[str, Event]:
    """The latest active or cancelled event of each UID the email's invitations name, by UID (one
    query; none for mail without invitations). Its SEQUENCE is the version the timeline has."""
    uids = _invitation_uids(items)
    if not uids:
        return {}
    events = (
        Event.objects.filter(
            ical_uid__in=uids,
            deleted_at__isnull=True,
            status__in=[EventStatus.ACTIVE, EventStatus.CANCELLED],
        )
        .exclude(email=email)
        .select_related("project")
        .order_by("ical_sequence", "status", "pk")  # at one SEQUENCE the active one ("active" < "cancelled") loses
    )
    return {event.ical_uid: event for event in events}


def _invitation_step(
    item: ExtractedEvent,
    values: dict[str, Any],
    *,
    email: Email,
    known: dict[str, Event],
    updated: list[Event],
    confirmed: list[Event],
) -> tuple[bool, Event | None]:
    """What an invitation does to the timeline: (handled, earlier).

    Handled here: a REPLY answers its meeting, a CANCEL cancels it, an invitation the timeline
    already has at this SEQUENCE confirms it, an older one (or one of a cancelled meeting) changes
    nothing, and one about a single occurrence of a series is noted on the series. Otherwise the
    caller creates the meeting: new (earlier None) or moving `earlier`, which a higher SEQUENCE
    supersedes with a "rescheduled" history row.
    """
    invitation = item.invitation
    assert invitation is not None
    event = known.get(invitation.uid[:500]) if invitation.uid else None
    stored = (event.ical_sequence or 0) if event is not None else 0
    if invitation.method == "REPLY":
        if event is not None and event.status == EventStatus.ACTIVE and invitation.answers:
            _invitation_note(event, "replied", email=email, item=item, after={"answers": invitation.answers})
            updated.append(event)
        return True, None
    if invitation.method == "CANCEL":
        if event is None and item.updates_event_id is not None:  # a meeting named by its day
            event = (
                Event.objects.filter(pk=item.updates_event_id, deleted_at__isnull=True, status=EventStatus.ACTIVE)
                .exclude(email=email)
                .first()
            )
        if event is None or event.status != EventStatus.ACTIVE or stored > invitation.sequence:
            return True, None  # nothing on the timeline to cancel, or an older cancellation
        if invitation.occurrence is not None:
            _invitation_note(event, "occurrence cancelled", email=email, item=item)
            updated.append(event)
            return True, None
        _event_change(
            event,
            action="cancelled",
            email=email,
            note=item.evidence,
            status=EventStatus.CANCELLED,
            ical_sequence=max(stored, invitation.sequence) if event.ical_uid else None,
        )
        updated.append(event)
        return True, None
    if event is None:
        return False, None  # a new meeting (or one the timeline has from a sentence: confirmed)
    if invitation.sequence < stored or (invitation.sequence == stored and event.status != EventStatus.ACTIVE):
        return True, None  # an older version, or the version that was cancelled since
    if invitation.occurrence is not None:
        _invitation_note(event, "occurrence moved", email=email, item=item)
        updated.append(event)
        return True, None
    if invitation.sequence == stored:
        _confirm(event, email=email, item=item, values=values, confirmed=confirmed)
        return True, None
    return False, event if event.status == EventStatus.ACTIVE else None


def _waiting_with_invitations(extraction: Extraction) -> dict[str, Any]:
    """`waiting_of`, with each invitation's UID and SEQUENCE kept beside its event, so that the
    meeting a person files is found by later updates. Less the cancellations and replies of
    invitations: they act only on a meeting found by its UID, which an unfiled email's is not."""
    events = [e for e in extraction.events if e.invitation is None or e.invitation.method == "REQUEST"]
    waiting = waiting_of(replace(extraction, events=events) if len(events) < len(extraction.events) else extraction)
    for entry, item in zip(waiting.get("events", []), events, strict=False):
        if item.invitation is not None:
            entry["invitation"] = {
                "method": item.invitation.method,
                "uid": item.invitation.uid,
                "sequence": item.invitation.sequence,
                "location": item.invitation.location,
                "recurrence": item.invitation.recurrence,
            }
    return waiting


def _invitation_from_json(value: Any) -> InvitationRef | None:
    if not isinstance(value, dict) or value.get("method") != "REQUEST":
        return None
    return InvitationRef(
        method="REQUEST",
        uid=str(value.get("uid", "")),
        sequence=int(value.get("sequence") or 0),
        location=str(value.get("location", "")),
        recurrence=str(value.get("recurrence", "")),
    )


def _invitation_note(
    event: Event, action: str, *, email: Email, item: ExtractedEvent, after: dict[str, Any] | None = None
) -> None:
    """A history row that changes nothing else (an answer, a change to one occurrence)."""
    EventHistory.objects.create(event=event, action=action, email=email, after=after or {}, note=item.evidence[:500])
    Event.objects.filter(pk=event.pk).update(updated_at=timezone.now())


@transaction.atomic
def extraction_apply(
    *, organization: Organization, email: Email, extraction: Extraction, first_run: bool = False
) -> ApplyResult:
    """Store what the extraction found for `email`, replacing that email's earlier (unedited) events.

    `first_run=True` is the caller's word that nothing was ever applied for this email (the worker
    knows it from processed_at): there is no earlier run to undo and no edited event to keep.
    """
    return extraction_apply_in_transaction(
        organization=organization, email=email, extraction=extraction, first_run=first_run
    )


def extraction_apply_in_transaction(
    *, organization: Organization, email: Email, extraction: Extraction, first_run: bool = False
) -> ApplyResult:
    """`extraction_apply` for a caller already inside the transaction that must hold all of it.

    The worker applies and records the email's new state in one transaction of its own; a
    savepoint here would cost two more round trips per email and undo nothing that the
    caller's rollback does not.
    """
    assert transaction.get_connection().in_atomic_block, "call extraction_apply outside a transaction"
    project, filing, reason = project_decide(email=email, extraction=extraction)
    if project is None and FilingState.NOT_PROJECT not in (filing, email.filing):
        project, filing, reason = _invitation_project(email=email, extraction=extraction) or (project, filing, reason)
    project_created = False
    corroborating: list[Email] = []
    if project is None and filing == FilingState.UNFILED and reason != THREAD_WAITS:
        corroborating = _corroborating(email=email, extraction=extraction, organization=organization)
        if corroborating:
            extraction = _corroborated(extraction, corroborating)
            filing, reason = FilingState.AUTO, extraction.project.reason
    if project is None and filing == FilingState.AUTO and extraction.project.action == "new":
        project, project_created = _project_create(
            organization=organization, extraction=extraction, active_at=email.date
        )
    if project is not None and corroborating:
        _waiting_join(corroborating, project=project, organization=organization, reason=reason)

    if not first_run:
        _revert_earlier_run(email)
    if project is None:
        return ApplyResult(
            project=None,
            created_events=[],
            updated_events=[],
            filing=filing,
            filing_reason=reason,
            waiting=_waiting_with_invitations(extraction) if filing == FilingState.UNFILED else {},
        )

    kept = set() if first_run else {(e.kind, e.evidence) for e in Event.objects.filter(email=email, edited=True)}
    # Less what a person already corrected (an edited event of this email, kept above).
    items = [
        (item, _event_values(item, extraction)) for item in extraction.events if (item.kind, item.evidence) not in kept
    ]
    # A cancellation never confirms anything, even when the event it names is gone.
    confirmable = _confirmable_events(
        project=project, email=email, items=[values for item, values in items if item.update_action != "cancel"]
    )
    created: list[Event] = []
    updated: list[Event] = []
    confirmed: list[Event] = []
    known = _known_invitations(email=email, items=[item for item, _ in items])
    for item, values in items:
        earlier = None
        if item.invitation is not None:
            handled, earlier = _invitation_step(
                item, values, email=email, known=known, updated=updated, confirmed=confirmed
            )
            if handled:
                continue
        elif item.updates_event_id is not None and item.update_action:
            earlier = (
                Event.objects.filter(pk=item.updates_event_id, deleted_at__isnull=True, status=EventStatus.ACTIVE)
                .exclude(email=email)
                .first()
            )
        if earlier is not None and item.update_action == "cancel":
            _event_change(earlier, action="cancelled", email=email, note=item.evidence, status=EventStatus.CANCELLED)
            updated.append(earlier)
            continue
        if earlier is not None and item.update_action == "paid":
            # "Invoice 2 was paid today": the open payment is done, not joined by a second one.
            paid_on = values["date"].isoformat() if values["date"] else None
            _event_change(
                earlier, action="paid", email=email, note=item.evidence, after={"paid_on": paid_on}, done=True
            )
            updated.append(earlier)
            continue
        if earlier is None and item.update_action not in ("cancel", "paid"):
            same = confirmable.get(
                _confirmation_key(values["kind"], values["date"], values["time"], values["title"], values["amount"])
            )
            if same is not None:
                _confirm(same, email=email, item=item, values=values, confirmed=confirmed)
                continue
        event = Event(
            project=earlier.project if earlier else project,
            email=email,
            suggested=_suggested(values, earlier=earlier),
            **values,
        )
        if earlier is not None and earlier.ical_uid and not event.ical_uid:
            # Moved by a sentence: the invitation's later updates still find the meeting.
            event.ical_uid, event.ical_sequence = earlier.ical_uid, earlier.ical_sequence
        # The event and its history row in one statement; the history row takes the event's new id.
        rows_insert([event], [EventHistory(event=event, action="created", email=email, after=_snapshot(event))])
        created.append(event)
        if earlier is not None:  # reschedule: the earlier event stays, superseded by the new one
            before = _snapshot(earlier)
            Event.objects.filter(pk=earlier.pk).update(
                status=EventStatus.SUPERSEDED, superseded_by=event, updated_at=timezone.now()
            )
            earlier.status, earlier.superseded_by = EventStatus.SUPERSEDED, event
            EventHistory.objects.create(
                event=earlier,
                action="rescheduled",
                email=email,
                before=before,
                after={
                    **_snapshot(earlier),
                    "date": event.date.isoformat() if event.date else None,
                    "new_event_id": event.pk,
                },
                note=item.evidence[:500],
            )
            updated.append(earlier)

    _suggestions_confirmed(confirmed, email=email)

    activity = email.date or timezone.now()
    # The row was read a moment ago in this transaction: when it is already as late, the
    # guarded UPDATE would change nothing, so it is not sent.
    if project.last_activity_at is None or project.last_activity_at < activity:
        Project.objects.filter(pk=project.pk).filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=activity)
        ).update(last_activity_at=activity)
    return ApplyResult(
        project=project,
        created_events=created,
        updated_events=updated,
        project_created=project_created,
        confirmed_events=confirmed,
        filing=filing,
        filing_reason=reason,
    )
