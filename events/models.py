"""Emails (the full stored message and its processing state) and timeline events. Tenant schema."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Left
from django.utils.functional import cached_property

from projects.models import SEARCH_CONFIG, SEARCH_TEXT_CHARS, address_words


class DeferSearchManager(models.Manager):  # type: ignore[type-arg]
    """Rows without their search vector unless asked for: only search reads it, and an email's
    vector is about as large as its text."""

    def get_queryset(self) -> models.QuerySet:  # type: ignore[type-arg]
        return super().get_queryset().defer("search")


class EmailState(models.TextChoices):
    QUEUED = "queued", "Queued"
    # Waiting in a Message Batch of a backfill (events.ai_batches); no worker or sweep takes it.
    BATCHED = "batched", "In a batch"
    PROCESSING = "processing", "Processing"
    PROCESSED = "processed", "Processed"
    HELD = "held", "Held"
    FAILED = "failed", "Failed"
    IGNORED = "ignored", "Ignored"


class HoldCause(models.TextChoices):
    """Why a held email waits: decides who or what may resume it (events.tasks re-queues the
    plan's holds by itself; the others wait for an admin). The email's `state_reason` says the
    same in words, for people."""

    NONE = "", "Not held"
    SENDER_NOT_AUTHENTICATED = "sender_not_authenticated", "Sender not authenticated"
    MAIL_LOOP = "mail_loop", "Mail loop"
    PLAN_LIMIT = "plan_limit", "Plan limit"
    AI_BUDGET = "ai_budget", "AI budget"
    PROJECT_LIMIT = "project_limit", "Project limit"


# Held by the plan: released by the re-queue schedule as soon as the plan allows it again.
PLAN_HOLD_CAUSES = (HoldCause.PLAN_LIMIT, HoldCause.AI_BUDGET, HoldCause.PROJECT_LIMIT)
# Held because the mail itself is suspect: only an admin releases it.
REVIEW_HOLD_CAUSES = (HoldCause.SENDER_NOT_AUTHENTICATED, HoldCause.MAIL_LOOP)


PENDING_STATES = (EmailState.QUEUED, EmailState.BATCHED, EmailState.PROCESSING)
# Mail that needs a person: the inbox counts it, and "re-process all" takes it.
NEEDS_ATTENTION_STATES = (EmailState.FAILED, EmailState.HELD)


class FilingState(models.TextChoices):
    """Where a processed email stands with projects (its processing state says how far it got)."""

    UNDECIDED = "", "Not decided"  # not processed yet (or processed before filing had states)
    AUTO = "auto", "Filed automatically"
    HAND = "hand", "Filed by a person"
    UNFILED = "unfiled", "Unfiled"  # not sure enough: waits for a person, with suggestions
    NOT_PROJECT = "not_project", "Not project mail"  # noise, or a person said so


def raw_mail_path(instance: Email, filename: str) -> str:
    return f"mail/{instance.received_at:%Y/%m}/{instance.code}.eml"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.email.code}/{instance.code}"


class Email(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message_id = models.CharField(max_length=998)
    provider = models.CharField(max_length=30, blank=True)  # postmark, amazon_ses, eml, mbox, …
    provider_event_id = models.CharField(max_length=255, blank=True)
    envelope_sender = models.CharField(max_length=998, blank=True)
    envelope_recipient = models.CharField(max_length=998, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.TextField(blank=True)
    date = models.DateTimeField(null=True, blank=True)  # the Date header
    received_at = models.DateTimeField(db_index=True)
    headers = models.JSONField(default=list, blank=True)  # [[name, value], …] in order
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)  # sanitised with nh3 before it is stored
    raw = models.FileField(upload_to=raw_mail_path, max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    # `slug+hint@` names a project explicitly; it wins over every other matching rule.
    project_hint = models.CharField(max_length=100, blank=True)
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    summary = models.TextField(blank=True)
    filing = models.CharField(max_length=20, choices=FilingState.choices, default=FilingState.UNDECIDED, blank=True)
    filing_confidence = models.FloatField(null=True, blank=True)
    filing_reason = models.CharField(max_length=200, blank=True)
    # Ranked places to file an unfiled email: [{"project": id | None, "score", "name", "client_name", "client_email"}]
    suggestions = models.JSONField(default=list, blank=True)
    # The events an unfiled email's extraction found, waiting to be applied when it is filed
    # (extraction.types.ExtractedEvent as JSON, with the extraction's provider and model).
    waiting = models.JSONField(default=dict, blank=True)
    # Indexed by email_state_changed (state, state_changed_at), which starts with it.
    state = models.CharField(max_length=20, choices=EmailState.choices, default=EmailState.QUEUED)
    state_reason = models.TextField(blank=True)
    # Set with state=held, cleared by every other state change (events.processing._set_state).
    hold_cause = models.CharField(max_length=30, choices=HoldCause.choices, default=HoldCause.NONE, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Backfills (ingest_eml / import_mbox) are not subject to the mail-loop limit.
    backfill = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Subject (A), sender (B) and text (C), computed by PostgreSQL on every write of those columns.
    search = models.GeneratedField(
        expression=SearchVector(Left("subject", 1000), config=SEARCH_CONFIG, weight="A")
        + SearchVector("from_name", "from_address", address_words("from_address"), config=SEARCH_CONFIG, weight="B")
        + SearchVector(Left("text", SEARCH_TEXT_CHARS), config=SEARCH_CONFIG, weight="C"),
        output_field=SearchVectorField(),
        db_persist=True,
        serialize=False,
    )

    objects = DeferSearchManager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            # Partial (never-empty) so PostgreSQL keeps it as a named unique index: django-tenants'
            # clone_schema renames plain UNIQUE constraints, which would break later migrations
            # on cloned schemas (tests/organizations/test_tenancy.py compares the two).
            models.UniqueConstraint(fields=["message_id"], condition=~Q(message_id=""), name="email_unique_message_id"),
            models.UniqueConstraint(
                fields=["provider", "provider_event_id"],
                condition=~Q(provider_event_id=""),
                name="email_unique_provider_event",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "state_changed_at"], name="email_state_changed"),
            models.Index(fields=["received_at"], condition=Q(filing="unfiled"), name="email_unfiled"),
            GinIndex(fields=["search"], name="email_search"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id


class EmailFiling(models.Model):
    """One filing of an email by a person (or its undo): where it was and where it went."""

    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="filings")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_filing = models.CharField(max_length=20, choices=FilingState.choices, blank=True)
    to_filing = models.CharField(max_length=20, choices=FilingState.choices, blank=True)
    undone = models.BooleanField(default=False)
    # The signals this filing taught (projects.ProjectSignal: kind, value, project), forgotten on undo.
    taught = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_project_id} → {self.to_project_id}"


class Attachment(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=attachment_path, max_length=300, blank=True)

    def __str__(self) -> str:
        return self.filename or str(self.code)


class EmailLog(models.Model):
    """The processing history of one email: every state change with its reason."""

    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="logs")
    at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=20, choices=EmailState.choices)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.state}: {self.message}"


class EventKind(models.TextChoices):
    MEETING = "meeting", "Meeting"
    DEADLINE = "deadline", "Deadline"
    MILESTONE = "milestone", "Milestone"
    DECISION = "decision", "Decision"
    ACTION_ITEM = "action_item", "Action item"
    PAYMENT = "payment", "Payment"
    STATUS_CHANGE = "status_change", "Status change"


class EventStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"
    SUPERSEDED = "superseded", "Superseded"


class Event(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="events")
    email = models.ForeignKey(Email, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    date = models.DateField(null=True, blank=True, db_index=True)
    time = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    people = models.JSONField(default=list, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    evidence = models.TextField(blank=True)
    confidence = models.FloatField(default=1.0)
    provider = models.CharField(max_length=30, blank=True)  # rules, anthropic, manual
    model = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=EventStatus.choices, default=EventStatus.ACTIVE)
    # Extracted less surely than PROJECTR_EVENT_SUGGESTION_THRESHOLD: on the timeline to accept or
    # dismiss, but on no calendar feed, digest, "Next" or CSV/ICS export until accepted or confirmed.
    # A flag beside the status, not a status: the pipeline's lookups of active events (confirmation,
    # reschedule, cancellation, invitations, context) must still find it, so a reply can confirm it.
    suggested = models.BooleanField(default=False)
    done = models.BooleanField(default=False)
    # A person changed it: re-processing its email never overwrites it.
    edited = models.BooleanField(default=False)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set on an event replaced by a reschedule (the newer event) or cancelled by an email.
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)  # soft delete, for undo
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The calendar invitation it was read from (extraction.calendar): a later invitation with the
    # same UID moves, cancels or answers it when its SEQUENCE is not older (events.apply).
    ical_uid = models.CharField(max_length=500, blank=True)
    ical_sequence = models.PositiveIntegerField(null=True, blank=True)
    # Title (A) and the sentence it came from (B).
    search = models.GeneratedField(
        expression=SearchVector("title", config=SEARCH_CONFIG, weight="A")
        + SearchVector("evidence", config=SEARCH_CONFIG, weight="B"),
        output_field=SearchVectorField(),
        db_persist=True,
        serialize=False,
    )

    objects = DeferSearchManager()

    class Meta:
        ordering = ["date", "time", "id"]
        indexes = [
            models.Index(fields=["project", "date", "id"], name="event_project_date"),
            models.Index(fields=["ical_uid"], condition=~Q(ical_uid=""), name="event_ical_uid"),
            # The timeline's keyset order (events.selectors.timeline_events; the two constants must
            # match its _UNDATED and _NO_TIME), so a page of a long timeline is read, not sorted.
            models.Index(
                F("project"),
                Coalesce("date", Value(datetime.date(9999, 12, 31))),
                Coalesce("time", Value(datetime.time(0, 0))),
                F("id"),
                name="event_timeline_order",
                condition=Q(deleted_at__isnull=True),
            ),
            GinIndex(fields=["search"], name="event_search"),
        ]

    def __str__(self) -> str:
        return self.title

    @cached_property
    def confirmations(self) -> list[EventHistory]:
        """The later emails that said this event again (events.apply), from the history as loaded
        (the timeline prefetches it; elsewhere this reads it)."""
        return [entry for entry in self.history.all() if entry.action == "confirmed"]

    @property
    def checked(self) -> bool:
        """A person saved the event as it stands (events.services.event_update with no change):
        they looked at it against its email and found it right."""
        return any(entry.action == "checked" for entry in self.history.all())

    @property
    def corroborated_confidence(self) -> float:
        """How sure we are of the event with every email that said it, each taken as independent
        evidence: 1 − Π(1 − p). Two "45 % sure" readings of the same meeting make 70 %. A
        confirmation keeps its email's own reading in `after["confidence"]`. An event added by
        hand is as sure as its author made it; one a person edited or checked is certain: the
        extraction's doubt was about its own reading, which a person has now replaced or
        confirmed, so "45% sure" does not stay once a person has set the date and title."""
        if self.provider == "manual":
            return self.confidence
        if self.edited or self.checked:
            return 1.0
        if not self.confirmations:
            return self.confidence
        doubt = 1.0 - self.confidence
        for entry in self.confirmations:
            doubt *= 1.0 - float(entry.after.get("confidence", 0.0) if isinstance(entry.after, dict) else 0.0)
        return 1.0 - doubt


class EventHistory(models.Model):
    """What happened to an event: created, rescheduled, cancelled, confirmed (a later email said it
    again), edited, checked (a person saved it unchanged), moved, deleted, restored, accepted or
    dismissed (a suggestion)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.ForeignKey(Email, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d %H:%M}"
