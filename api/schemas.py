"""Request and response bodies of the API (pydantic through django-ninja; they make the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field, StringConstraints

from events.models import Email, EventKind, FilingState
from events.selectors import Suggestion

# Where api.endpoints_emails puts an unfiled email's resolved suggestions (as Prefetch's to_attr does).
SUGGESTIONS_ATTR = "api_suggestions"

# Spelled out so type checkers and the OpenAPI schema see the values; tests/api/test_openapi.py
# checks they match the models' choices.
ProjectStatusName = Literal["active", "on_hold", "completed", "archived"]
EventKindName = Literal["meeting", "deadline", "milestone", "decision", "action_item", "payment", "status_change"]
EventStatusName = Literal["active", "cancelled", "superseded"]
EmailStateName = Literal["queued", "batched", "processing", "processed", "held", "failed", "ignored"]
FilingName = Literal["", "auto", "hand", "unfiled", "not_project"]
HoldCauseName = Literal["", "sender_not_authenticated", "mail_loop", "plan_limit", "ai_budget", "project_limit"]
WhenName = Literal["all", "upcoming", "past"]

# PostgreSQL text cannot hold NUL: refused here as a 400 rather than failing in the database as a 500.
NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=NO_NUL)]
Short = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^([A-Za-z]{3})?$")]
Person = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]


class Error(Schema):
    detail: str


class FieldError(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    detail: str
    errors: list[FieldError]


# --- projects -------------------------------------------------------------------------------


class ProjectOut(Schema):
    code: UUID
    name: str
    slug: str
    client_name: str
    client_email: str
    status: ProjectStatusName
    summary: str
    created_at: dt.datetime
    updated_at: dt.datetime
    last_activity_at: dt.datetime | None
    event_count: int = 0
    next_event_date: dt.date | None = None
    next_event_title: str | None = None


class ProjectPage(Schema):
    items: list[ProjectOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ProjectIn(Schema):
    name: Name
    client_name: Short = ""
    client_email: Short = ""


class ProjectPatch(Schema):
    name: Name | None = None
    status: ProjectStatusName | None = None
    client_name: Short | None = None
    client_email: Short | None = None


# --- events ---------------------------------------------------------------------------------


class EventOut(Schema):
    code: UUID
    project: UUID = Field(validation_alias="project.code")
    kind: EventKindName
    title: str
    description: str
    date: dt.date | None
    time: dt.time | None
    timezone: str
    people: list[str]
    amount: Decimal | None
    currency: str
    evidence: str
    confidence: float
    provider: str
    status: EventStatusName
    suggested: bool = Field(
        description="Extracted less surely than the suggestion threshold: on the timeline to accept or dismiss, "
        "left out of calendar feeds, the digest, `when=upcoming` and the CSV/ICS exports until accepted."
    )
    done: bool
    edited: bool
    email: UUID | None = None
    confirmed_by: list[UUID] = Field(
        default_factory=list,
        description="Later emails that said this event again, oldest first (`confidence` stays the first email's).",
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_email(obj: object) -> UUID | None:
        email = getattr(obj, "email", None)
        return email.code if email is not None else None

    @staticmethod
    def resolve_confirmed_by(obj: object) -> list[UUID]:
        confirmations = getattr(obj, "confirmations", [])  # events.models.Event.confirmations
        return [entry.email.code for entry in confirmations if entry.email is not None]


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class EventIn(Schema):
    project: UUID
    kind: EventKindName
    title: Title
    date: dt.date | None = None
    time: dt.time | None = None
    description: Annotated[str, StringConstraints(max_length=10000)] = ""
    people: Annotated[list[Person], Field(max_length=50)] = []
    amount: Money | None = None
    currency: Currency = ""


class EventPatch(Schema):
    kind: EventKindName | None = None
    title: Title | None = None
    date: dt.date | None = None
    time: dt.time | None = None
    description: Annotated[str, StringConstraints(max_length=10000)] | None = None
    people: Annotated[list[Person], Field(max_length=50)] | None = None
    amount: Money | None = None
    currency: Currency | None = None
    done: bool | None = None


# --- emails ---------------------------------------------------------------------------------


class SuggestionOut(Schema):
    project: UUID | None = Field(description="An open project's code; null for a proposed new project.")
    name: str = Field(description="The project's name, or the proposed new project's.")
    client_name: str = Field(description="The project's client, or the proposed new project's.")
    client_email: str = Field(description="The proposed new project's client address (empty for a project).")
    score: float = Field(description="0–1, comparable with the email's `filing_confidence`.")

    @staticmethod
    def resolve_project(obj: Suggestion) -> UUID | None:
        return obj.project.code if obj.project is not None else None

    @staticmethod
    def resolve_name(obj: Suggestion) -> str:
        return obj.project.name if obj.project is not None else obj.name

    @staticmethod
    def resolve_client_name(obj: Suggestion) -> str:
        return obj.project.client_name if obj.project is not None else obj.client_name

    @staticmethod
    def resolve_client_email(obj: Suggestion) -> str:
        return "" if obj.project is not None else obj.client_email


class WaitingEventOut(Schema):
    """An event an unfiled email's extraction found: on no timeline until the email is filed."""

    kind: EventKindName
    title: str
    date: dt.date | None = None
    time: dt.time | None = None
    people: list[str] = []
    amount: Decimal | None = None
    currency: str = ""
    evidence: str = ""
    confidence: float = 0.5


class EmailOut(Schema):
    code: UUID
    message_id: str
    subject: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    date: dt.datetime | None
    received_at: dt.datetime
    state: EmailStateName
    state_reason: str
    hold_cause: HoldCauseName = Field(
        default="",
        description="Held mail only: why it waits. plan_limit, ai_budget and project_limit resume by themselves "
        "when the plan allows; sender_not_authenticated and mail_loop wait for an admin to release or delete it.",
    )
    project: UUID | None = None
    filing: FilingName = Field(
        description="auto / hand: filed (by the engine, by a person); unfiled: waits for a person, with "
        "`suggestions`; not_project: not project mail; empty: not decided yet."
    )
    filing_confidence: float | None = Field(description="How sure the engine was of its project decision (0–1).")
    filing_reason: str
    suggestions: list[SuggestionOut] = Field(
        default_factory=list, description="Unfiled mail only: up to three places to file it, best first."
    )
    waiting_events: list[WaitingEventOut] = Field(
        default_factory=list,
        description="Unfiled mail only: the events found in it, added to the project it is filed in.",
    )
    summary: str
    size: int
    processed_at: dt.datetime | None

    @staticmethod
    def resolve_project(obj: object) -> UUID | None:
        project = getattr(obj, "project", None)
        return project.code if project is not None else None

    @staticmethod
    def resolve_suggestions(obj: Email) -> list[Suggestion]:
        return list(getattr(obj, SUGGESTIONS_ATTR, []))  # set by api.endpoints_emails for unfiled mail

    @staticmethod
    def resolve_waiting_events(obj: Email) -> list[dict[str, Any]]:
        if obj.filing != FilingState.UNFILED or not isinstance(obj.waiting, dict):
            return []
        events = obj.waiting.get("events")
        return [e for e in events or [] if isinstance(e, dict) and e.get("kind") in EventKind.values and e.get("title")]


class EmailPage(Schema):
    items: list[EmailOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class AttachmentOut(Schema):
    code: UUID
    filename: str
    content_type: str
    size: int


class EmailLogOut(Schema):
    at: dt.datetime
    state: EmailStateName
    message: str


class EmailEventOut(Schema):
    code: UUID
    kind: EventKindName
    title: str
    date: dt.date | None


class EmailDetailOut(EmailOut):
    in_reply_to: str
    text: str
    html: str = Field(description="Sanitised at ingest (nh3): no scripts, styles, images or forms.")
    attachments: list[AttachmentOut]
    events: list[EmailEventOut]
    logs: list[EmailLogOut]


class NewProjectIn(Schema):
    name: Name
    client: Short = ""
    client_email: Short = ""


class FileIn(Schema):
    """Exactly one of: `project` (an open project's code), `new_project`, `not_project_mail: true`."""

    project: UUID | None = None
    new_project: NewProjectIn | None = None
    not_project_mail: bool = False


class ReprocessOut(Schema):
    queued: bool
    detail: str


# --- usage and subscription -----------------------------------------------------------------


class PeriodOut(Schema):
    start: dt.datetime
    end: dt.datetime


class Meter(Schema):
    used: int
    limit: int | None = Field(description="null = unlimited")


class MoneyMeter(Schema):
    used: Decimal
    limit: Decimal | None = Field(description="null = unlimited")


class UsageOut(Schema):
    period: PeriodOut
    emails: Meter
    open_projects: Meter
    ai_cost_usd: MoneyMeter
    held_emails: int


class DayOut(Schema):
    day: dt.date
    emails: int
    cost_usd: Decimal


class LimitsOut(Schema):
    emails: int | None
    projects: int | None
    ai_budget_usd: Decimal | None


class PlanOut(Schema):
    code: str
    name: str
    monthly_price_usd: Decimal | None


class SubscriptionOut(Schema):
    plan: PlanOut | None
    billing_status: str
    processing_allowed: bool
    notice: str
    period: PeriodOut
    current_period_end: dt.datetime | None
    trial_ends_at: dt.datetime | None
    limits: LimitsOut
    overage_enabled: bool
    ai_budget_action: str


# Every authenticated endpoint can answer these.
ERRORS: dict[int, type[Schema]] = {400: ValidationErrorOut, 401: Error, 403: Error, 404: Error, 429: Error}
