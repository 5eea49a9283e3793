"""The extraction contract: what goes into a provider and what comes out.

Pure data (no Django models, no database): the events app builds an EmailInput and a
Context from its rows, calls `extraction.extract()`, validates nothing itself, and
applies the returned Extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal

EVENT_KINDS = ("meeting", "deadline", "milestone", "decision", "action_item", "payment", "status_change")
EventKind = Literal["meeting", "deadline", "milestone", "decision", "action_item", "payment", "status_change"]


@dataclass(frozen=True)
class EmailInput:
    message_id: str
    subject: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    date: datetime | None  # the Date header, timezone-aware
    text: str  # plain text body (HTML converted to text when there was no text part)
    headers: list[tuple[str, str]] = field(default_factory=list)
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachment_names: list[str] = field(default_factory=list)
    project_hint: str = ""  # from slug+hint@ addresses; applied by the events app, not the provider
    stripped_text: str | None = None  # the provider's own reply stripping (Postmark), when present
    # The text of each calendar part or .ics file (extraction.calendar reads the invitations).
    calendars: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProjectRef:
    id: int
    name: str
    client_name: str = ""
    client_email: str = ""
    aliases: list[str] = field(default_factory=list)
    recent_subjects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadEmail:
    message_id: str
    subject: str
    project_id: int | None
    date: datetime | None = None


@dataclass(frozen=True)
class EventRef:
    """An existing event the model may say is rescheduled or cancelled by this email."""

    id: int
    kind: str
    title: str
    date: date | None
    project_id: int
    ical_uid: str = ""  # the calendar invitation it came from, if any


@dataclass(frozen=True)
class TaughtSignal:
    """What a person's filing taught the organization: mail with this sender address
    (`sender`), from this company domain (`domain`), or with this distinctive subject word
    (`word`) belongs to `project_id`."""

    kind: Literal["sender", "domain", "word"]
    value: str
    project_id: int


@dataclass(frozen=True)
class Context:
    projects: list[ProjectRef] = field(default_factory=list)  # the organization's open projects
    thread: list[ThreadEmail] = field(default_factory=list)  # earlier emails of the thread
    recent_events: list[EventRef] = field(default_factory=list)  # upcoming events of the likely projects
    organization_domains: list[str] = field(default_factory=list)  # our own people's domains
    organization_name: str = ""  # "Brightline Studio": a domain like brightline.studio is ours too
    taught: list[TaughtSignal] = field(default_factory=list)  # from people's filing (projects.ProjectSignal)


@dataclass(frozen=True)
class Candidate:
    """One place the email could be filed: an existing project, or (project_id None) a new one."""

    project_id: int | None
    score: float  # 0..1, comparable with ProjectDecision.confidence
    name: str = ""  # for a new project
    client_name: str = ""
    client_email: str = ""


@dataclass(frozen=True)
class ProjectDecision:
    action: Literal["existing", "new", "none"]
    project_id: int | None = None  # for "existing"
    name: str = ""  # for "new"
    client_name: str = ""
    client_email: str = ""
    confidence: float = 0.0
    # Up to three ranked places, the decision's own first; a person picks from these when the
    # decision is not sure enough to file (events.apply: FILING_THRESHOLD).
    candidates: list[Candidate] = field(default_factory=list)
    # A signal that decides on its own (the thread, a taught sender): filed whatever the threshold.
    sure: bool = False
    # Why, in a few words, for the email page ("same thread", "taught: sender", "subject words").
    reason: str = ""
    # For action "none": what kind of mail this is when it is not project mail at all
    # (newsletter, auto-reply, receipt, notification, pitch, internal); never creates a project.
    noise: str = ""


@dataclass(frozen=True)
class InvitationRef:
    """The calendar invitation (iTIP) an event was read from: events.apply finds the meeting it
    adds, moves, cancels or answers by `uid`, and `sequence` says which version is newer."""

    method: Literal["REQUEST", "CANCEL", "REPLY"]
    uid: str
    sequence: int = 0
    location: str = ""
    recurrence: str = ""  # "weekly", "every 2 weeks"; "" for a single meeting
    occurrence: date | None = None  # about this one occurrence of a series (RECURRENCE-ID)
    # A REPLY's answers: (who, accepted | declined | tentative | delegated)
    answers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ExtractedEvent:
    kind: EventKind
    title: str
    date: date | None = None
    time: time | None = None
    timezone: str = ""
    people: list[str] = field(default_factory=list)
    amount: Decimal | None = None
    currency: str = ""
    evidence: str = ""
    confidence: float = 0.5
    # Set when this email reschedules or cancels an earlier event (EventRef.id).
    updates_event_id: int | None = None
    # "paid": a payment of the thread reported as paid (it is marked done, not added again).
    update_action: Literal["", "reschedule", "cancel", "paid"] = ""
    invitation: InvitationRef | None = None  # read from a calendar invitation, not a sentence


@dataclass(frozen=True)
class Usage:
    provider: str
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: Decimal = Decimal("0")
    price_version: str = ""
    request_id: str = ""
    batch: bool = False


@dataclass(frozen=True)
class Extraction:
    project: ProjectDecision
    events: list[ExtractedEvent]
    summary: str
    usage: list[Usage]  # one per billed call (a retried call that was billed counts)
    provider: str
    model: str = ""
    # What could not be read but did not stop the email (a malformed calendar): for its log.
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BatchProgress:
    """Where a Message Batch stands (extraction.api.batch_submit / batch_progress). The counts
    other than `processing` stay zero until the whole batch has ended."""

    batch_id: str
    status: Literal["in_progress", "canceling", "ended"]
    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0
    created_at: datetime | None = None
    ended_at: datetime | None = None


class ExtractionError(Exception):
    """Extraction did not produce a usable result. `usage` holds what was billed anyway."""

    retryable = False

    def __init__(self, message: str, *, usage: list[Usage] | None = None) -> None:
        super().__init__(message)
        self.usage = usage or []


class RetryableExtractionError(ExtractionError):
    """Worth trying again later (rate limit, overload, 5xx, timeout)."""

    retryable = True


class PermanentExtractionError(ExtractionError):
    """Trying again will not help (bad request, auth, spend limit, refusal)."""
