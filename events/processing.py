"""The worker service: one queued Email → extraction → applied to the timeline.

States: queued → processing → processed | held | failed (and back to queued for a retry).
The claim is a filtered UPDATE, so two workers never process the same email; every state
change leaves an EmailLog row with its reason.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from billing.limits import ProcessingDecision, ProcessingGate, processing_decide_and_notify
from config.sql import RowReader, prepared_cursor
from events.apply import ProjectLimitReached, extraction_apply_in_transaction, suggestions_of
from events.enqueue import email_enqueue_on_commit
from events.extraction_inputs import OpenProjects, context_build, email_input_build
from events.models import Attachment, Email, EmailLog, EmailState, FilingState, HoldCause
from extraction.api import extract
from extraction.calendar import CALENDAR_TYPES
from extraction.types import Context, EmailInput, Extraction, ExtractionError, RetryableExtractionError, Usage
from organizations.models import Organization
from organizations.storage import StorageUnavailable
from usage.services import usage_records

logger = logging.getLogger(__name__)

# Attempts in all (the first included) before an email is marked failed, and the wait
# before each retry: transient AI errors (overload, rate limits) usually clear in minutes.
# settings.PROJECTR_RETRY_DELAYS overrides the waits (the soak needs seconds, not minutes).
MAX_ATTEMPTS = 4
RETRY_DELAYS_SECONDS = (60, 300, 1800)


class FailureCause(StrEnum):
    """Why processing failed, where the caller acts on it (events.batch retries an apply race)."""

    EXTRACTION = "extraction"
    APPLY = "apply"
    # Two threads created the same new project at once: a unique constraint refused the loser.
    APPLY_RACE = "apply_race"


@dataclass(frozen=True)
class ProcessResult:
    state: str  # the state the email was left in, or "skipped" when it was not ours to process
    reason: str = ""
    retry_in: int | None = None  # seconds, when a retry was scheduled
    hold_cause: HoldCause = HoldCause.NONE  # state == held: why
    failure: FailureCause | None = None  # state == failed, where it matters: why


# Threads of one batch that may run the database side of processing at once; the AI call is
# made outside it, so all PROJECTR_AI_CONCURRENCY calls can still be in flight. Two: while one
# waits on PostgreSQL the other runs Python. With all 16 in there, every query's answer waits
# its turn for the GIL among them, which cost ~25 % more CPU per email when calls answer at
# once (bench/pipeline.py). 16 emails a second (16 calls of 1 s) leave each email ~120 ms of
# database work on two slots, where it needs ~10.
WORK_SLOTS = 2


@dataclass(frozen=True)
class BatchShared:
    """What the emails of one batch (events.batch) share: the organization, one billing gate
    instead of a billing snapshot per email, one reading of the open projects, the work slots."""

    organization: Organization
    gate: ProcessingGate
    open_projects: OpenProjects = field(default_factory=OpenProjects)
    slots: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(WORK_SLOTS))

    @contextmanager
    def slot_released(self) -> Iterator[None]:
        """For the AI call: the slot goes to another thread meanwhile."""
        self.slots.release()
        try:
            yield
        finally:
            self.slots.acquire()

    @classmethod
    def for_organization(cls, organization: Organization) -> BatchShared:
        return cls(organization=organization, gate=ProcessingGate(organization))


def retry_delays() -> tuple[int, ...]:
    return tuple(getattr(settings, "PROJECTR_RETRY_DELAYS", None) or RETRY_DELAYS_SECONDS)


def retry_delay(attempts: int) -> int:
    delays = retry_delays()
    return delays[min(attempts, len(delays)) - 1]


def _email_field(name: str) -> Field[Any, Any]:
    field = Email._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _set_state(
    email_id: int, state: str, reason: str, hold_cause: HoldCause = HoldCause.NONE, **fields: object
) -> None:
    """The email's new state and its log row, in one statement (as the claim does). Current schema."""
    now = timezone.now()
    values = {"state": state, "state_reason": reason, "hold_cause": hold_cause, "state_changed_at": now, **fields}
    params: list[Any] = []
    for name, value in values.items():
        field = _email_field(name)
        params.append(field.get_db_prep_save(value.pk if isinstance(value, Model) else value, connection))
    with prepared_cursor(on_search_path=True) as cursor:
        cursor.execute(_set_state_sql(tuple(values)), [*params, email_id, now, state, reason])


@functools.lru_cache(maxsize=16)
def _set_state_sql(names: tuple[str, ...]) -> str:
    """`_set_state`'s statement for these fields, built once per process: every email ends with one."""
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(_email_field(name).column))} = %s" for name in names)
    emails, logs = (quote(m._meta.db_table) for m in (Email, EmailLog))
    # Column names are our models' own, quoted; every value is a parameter.
    return (
        f"WITH changed AS (UPDATE {emails} SET {assignments} WHERE id = %s RETURNING id) "  # noqa: S608
        f"INSERT INTO {logs} (email_id, at, state, message) SELECT id, %s, %s, %s FROM changed"
    )


def _record_usage(organization: Organization, email: Email, usage: list[Usage]) -> Decimal:
    # Usage is flat (plain values only): its fields as they are; asdict's deep copy cost more per email.
    calls = [{f.name: getattr(item, f.name) for f in dataclasses.fields(item)} for item in usage]
    usage_records(organization=organization, email_code=email.code, calls=calls)
    return sum((item.cost_usd for item in usage), Decimal("0"))


EMAIL_ROWS = RowReader(Email)


@functools.cache
def _claim_sql() -> str:
    """The claim's statement, built once per process (every email starts with it)."""
    quote = connection.ops.quote_name
    emails, logs, attachments = (quote(m._meta.db_table) for m in (Email, EmailLog, Attachment))
    calendar_types = ", ".join(f"'{name}'" for name in sorted(CALENDAR_TYPES))  # our own constants
    # Our models' quoted table and column names; every value is a parameter.
    return (
        f"WITH claimed AS (UPDATE {emails} SET state = %s, state_changed_at = %s, attempts = attempts + 1 "  # noqa: S608
        f"WHERE id = %s AND state = %s RETURNING {EMAIL_ROWS.columns()}), "
        f"logged AS (INSERT INTO {logs} (email_id, at, state, message) SELECT id, %s, %s, %s FROM claimed) "
        f"SELECT claimed.*, ARRAY(SELECT filename FROM {attachments} WHERE email_id = claimed.id ORDER BY id), "
        # The storage names of its calendars (extraction.calendar.is_calendar), read for the invitations.
        f"ARRAY(SELECT file FROM {attachments} WHERE email_id = claimed.id AND file <> '' AND ("
        f"lower(content_type) IN ({calendar_types}) "
        "OR right(lower(filename), 4) IN ('.ics', '.vcs')) ORDER BY id) "
        "FROM claimed"
    )


def _claim_row(email_id: int, from_state: str = EmailState.QUEUED) -> tuple[Email, list[str], list[str]] | None:
    """queued → processing, only if it is still queued (the one place two workers race); a
    batch's result claims from `batched` the same way.

    One statement: the filtered UPDATE, its log row, and what the worker reads next (the claimed
    row, its attachments' names and the storage names of its calendars), so none is read again.
    Current schema.
    """
    now = timezone.now()
    with prepared_cursor(on_search_path=True) as cursor:
        cursor.execute(
            _claim_sql(),
            [EmailState.PROCESSING, now, email_id, from_state, now, EmailState.PROCESSING, "Processing"],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return EMAIL_ROWS.instance(row), list(row[-2]), list(row[-1])


def email_claim(email_id: int) -> bool:
    """queued → processing, only if it is still queued. Current schema."""
    return _claim_row(email_id) is not None


def email_process(*, schema_name: str, email_id: int, shared: BatchShared | None = None) -> ProcessResult:
    """Process one email of the organization with `schema_name`.

    `shared` comes from events.batch, whose thread is already in the organization's schema.
    """
    if shared is not None and connection.schema_name == schema_name == shared.organization.schema_name:  # type: ignore[attr-defined]
        return _process(shared.organization, email_id, shared)
    organization = Organization.objects.get(schema_name=schema_name)
    # tenant_context, not schema_context: the extraction context reads the organization's name
    # and members from connection.tenant, which schema_context leaves a nameless stand-in.
    with tenant_context(organization):
        return _process(organization, email_id, shared)


def _process(organization: Organization, email_id: int, shared: BatchShared | None) -> ProcessResult:
    with shared.slots if shared is not None else nullcontext():
        return _process_in_slot(organization, email_id, shared)


def _process_in_slot(organization: Organization, email_id: int, shared: BatchShared | None) -> ProcessResult:
    claimed = _claim_row(email_id)
    if claimed is None:
        return ProcessResult(state="skipped", reason="Not queued (already taken or done)")
    email, attachment_names, calendar_files = claimed
    decision = shared.gate.decide() if shared is not None else processing_decide_and_notify(organization)
    if not decision.allowed:
        cause = HoldCause.AI_BUDGET if decision.ai_budget else HoldCause.PLAN_LIMIT
        reason = f"{cause.label}: {decision.reason}"
        _set_state(email_id, EmailState.HELD, reason, hold_cause=cause)
        return ProcessResult(state=EmailState.HELD, reason=reason, hold_cause=cause)
    cost = Decimal("0")
    try:
        result, cost = _process_allowed(organization, email, attachment_names, calendar_files, decision, shared)
    finally:
        if shared is not None:
            shared.gate.finished(cost)
    return result


def _process_allowed(
    organization: Organization,
    email: Email,
    attachment_names: list[str],
    calendar_files: list[str],
    decision: ProcessingDecision,
    shared: BatchShared | None,
) -> tuple[ProcessResult, Decimal]:
    """Extract and apply; returns the result and the AI cost it recorded."""
    try:
        email_input = email_input_build(email, attachment_names=attachment_names, calendar_files=calendar_files)
        context = context_build(email, shared.open_projects if shared is not None else None)
        with shared.slot_released() if shared is not None else nullcontext():
            extraction = extract(email_input, context, provider=decision.provider_override)
    except RetryableExtractionError as error:
        cost = _record_usage(organization, email, error.usage)
        return _retry_or_fail(email, str(error)), cost
    except StorageUnavailable as error:
        # Its stored calendar could not be read (the bucket is down): later, not without it.
        return _retry_or_fail(email, str(error)), Decimal("0")
    except ExtractionError as error:
        cost = _record_usage(organization, email, error.usage)  # billed whatever happens next
        return _failed(email, f"Extraction failed: {error}"), cost
    except Exception as error:
        logger.exception("Extraction crashed on email %s", email.pk)
        return _failed(email, f"Extraction crashed: {type(error).__name__}"), Decimal("0")

    # Recorded before applying: the AI call is billed whatever happens next.
    cost = _record_usage(organization, email, extraction.usage)
    return _apply(organization, email, extraction, shared), cost


def _apply(
    organization: Organization, email: Email, extraction: Extraction, shared: BatchShared | None
) -> ProcessResult:
    try:
        with transaction.atomic():
            # processed_at is set in the same transaction as every apply, so without it this
            # email has no events, history or cancellations of its own to undo.
            result = extraction_apply_in_transaction(
                organization=organization, email=email, extraction=extraction, first_run=email.processed_at is None
            )
            if extraction.notes:  # what could not be read (a malformed calendar), before the outcome
                EmailLog.objects.bulk_create(
                    [EmailLog(email_id=email.pk, state=EmailState.PROCESSING, message=n) for n in extraction.notes]
                )
            reason = f"{len(result.created_events)} new, {len(result.updated_events)} updated events"
            if result.confirmed_events:
                reason += f", {len(result.confirmed_events)} confirmed"
            if result.filing == FilingState.UNFILED:
                reason = f"Unfiled ({result.filing_reason}): {len(result.waiting.get('events', []))} events wait for a project"
            _set_state(
                email.pk,
                EmailState.PROCESSED,
                reason,
                project=result.project,
                summary=extraction.summary,
                processed_at=timezone.now(),
                filing=result.filing,
                filing_confidence=extraction.project.confidence,
                filing_reason=result.filing_reason[:200],
                suggestions=suggestions_of(extraction) if result.filing == FilingState.UNFILED else [],
                waiting=result.waiting,
            )
    except ProjectLimitReached as error:
        cause = HoldCause.PROJECT_LIMIT
        reason = f"{cause.label}: {error or 'the plan allows no more projects'}"
        _set_state(email.pk, EmailState.HELD, reason, hold_cause=cause)
        return ProcessResult(state=EmailState.HELD, reason=reason, hold_cause=cause)
    except Exception as error:
        logger.exception("Applying the extraction of email %s failed", email.pk)
        reason = f"Could not apply the result: {type(error).__name__}"
        _set_state(email.pk, EmailState.FAILED, reason)
        failure = FailureCause.APPLY_RACE if isinstance(error, IntegrityError) else FailureCause.APPLY
        return ProcessResult(state=EmailState.FAILED, reason=reason, failure=failure)
    if result.project_created and shared is not None:
        shared.open_projects.changed()  # the next emails of the batch must see it
    return ProcessResult(state=EmailState.PROCESSED, reason=reason)


def emails_batch_claim(*, email_ids: list[int], reason: str) -> list[int]:
    """queued → batched (waiting in a Message Batch), only those still queued; returns them in
    the order given. Current schema; the caller's transaction records the batch with them."""
    now = timezone.now()
    with transaction.atomic():
        claimed = set(
            Email.objects.select_for_update(skip_locked=True)
            .filter(pk__in=email_ids, state=EmailState.QUEUED)
            .values_list("pk", flat=True)
        )
        Email.objects.filter(pk__in=claimed).update(state=EmailState.BATCHED, state_reason=reason, state_changed_at=now)
        EmailLog.objects.bulk_create(
            [EmailLog(email_id=pk, state=EmailState.BATCHED, message=reason) for pk in claimed]
        )
    return [pk for pk in email_ids if pk in claimed]


def emails_batch_release(*, schema_name: str, email_ids: list[int], reason: str) -> list[int]:
    """batched → queued, each with its per-email task after commit (a batch that could not
    finish them). Current schema; returns the ids that moved."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Email.objects.select_for_update()
            .filter(pk__in=email_ids, state=EmailState.BATCHED)
            .values_list("pk", flat=True)
        )
        Email.objects.filter(pk__in=ids).update(state=EmailState.QUEUED, state_reason=reason, state_changed_at=now)
        EmailLog.objects.bulk_create([EmailLog(email_id=pk, state=EmailState.QUEUED, message=reason) for pk in ids])
        for pk in ids:
            email_enqueue_on_commit(schema_name=schema_name, email_id=pk)
    return ids


def email_batch_result_apply(
    *, organization: Organization, email_id: int, read: Callable[[EmailInput, Context], Extraction]
) -> tuple[ProcessResult, Decimal]:
    """One Message Batch result for a batched email: claimed batched → processing (an email no
    longer waiting for its batch — re-processed or already applied — is skipped, so a result takes
    effect once), `read` turns the result into the Extraction (validated as a per-email answer),
    its usage is recorded, and it is applied exactly as the per-email worker applies. A result
    that is no answer (errored, expired, cut off, invalid) sends the email to the per-email queue.
    Returns the outcome and the cost recorded. Current schema (tenant_context)."""
    claimed = _claim_row(email_id, from_state=EmailState.BATCHED)
    if claimed is None:
        return ProcessResult(state="skipped", reason="Not waiting for this batch"), Decimal("0")
    email, attachment_names, calendar_files = claimed
    try:
        email_input = email_input_build(email, attachment_names=attachment_names, calendar_files=calendar_files)
        context = context_build(email)
        extraction = read(email_input, context)
    except RetryableExtractionError as error:
        cost = _record_usage(organization, email, error.usage)
        reason = f"Batch gave no answer ({error}); processing it on its own"
        _set_state(email.pk, EmailState.QUEUED, reason)
        email_enqueue_on_commit(schema_name=organization.schema_name, email_id=email.pk)
        return ProcessResult(state=EmailState.QUEUED, reason=reason), cost
    except ExtractionError as error:
        cost = _record_usage(organization, email, error.usage)  # billed whatever happens next
        return _failed(email, f"Extraction failed: {error}"), cost
    except Exception as error:
        logger.exception("Reading the batch result of email %s crashed", email.pk)
        return _failed(email, f"Extraction crashed: {type(error).__name__}"), Decimal("0")
    cost = _record_usage(organization, email, extraction.usage)
    return _apply(organization, email, extraction, None), cost


def _failed(email: Email, reason: str) -> ProcessResult:
    _set_state(email.pk, EmailState.FAILED, reason)
    return ProcessResult(state=EmailState.FAILED, reason=reason, failure=FailureCause.EXTRACTION)


def _retry_or_fail(email: Email, message: str) -> ProcessResult:
    if email.attempts >= MAX_ATTEMPTS:
        reason = f"Failed after {email.attempts} attempts: {message}"
        _set_state(email.pk, EmailState.FAILED, reason)
        return ProcessResult(state=EmailState.FAILED, reason=reason)
    delay = retry_delay(email.attempts)
    reason = f"Attempt {email.attempts} failed ({message}); retrying in {delay} s"
    _set_state(email.pk, EmailState.QUEUED, reason)
    return ProcessResult(state=EmailState.QUEUED, reason=reason, retry_in=delay)


def emails_requeue(*, email_ids: list[int], reset_attempts: bool = True) -> list[int]:
    """Put emails (failed, held, ignored or processed) back in the queue; returns the ids that moved.

    Current schema. The caller enqueues the returned ids after commit.
    """
    now = timezone.now()
    movable = [EmailState.FAILED, EmailState.HELD, EmailState.IGNORED, EmailState.PROCESSED]
    with transaction.atomic():
        ids = list(
            Email.objects.select_for_update().filter(pk__in=email_ids, state__in=movable).values_list("pk", flat=True)
        )
        fields: dict[str, object] = {
            "state": EmailState.QUEUED,
            "state_reason": "Re-queued",
            "hold_cause": HoldCause.NONE,
            "state_changed_at": now,
        }
        if reset_attempts:
            fields["attempts"] = 0
        Email.objects.filter(pk__in=ids).update(**fields)
        EmailLog.objects.bulk_create(
            [EmailLog(email_id=pk, state=EmailState.QUEUED, message="Re-queued") for pk in ids]
        )
    return ids


def email_reprocess(*, schema_name: str, email_id: int) -> bool:
    """Queue one email to be processed again (an admin's action); False when it is already pending."""
    return len(emails_reprocess(schema_name=schema_name, email_ids=[email_id])) == 1


def emails_reprocess(
    *, schema_name: str, email_ids: list[int] | None = None, states: tuple[str, ...] = (), enqueue: bool = True
) -> list[int]:
    """Queue emails again, by id or all in `states` (e.g. every failed and held one).

    `enqueue=False` leaves them queued for the caller to process inline (commands' --sync).
    """
    with schema_context(schema_name), transaction.atomic():
        if email_ids is None:
            email_ids = list(Email.objects.filter(state__in=states).values_list("pk", flat=True))
        moved = emails_requeue(email_ids=email_ids)
        for pk in moved if enqueue else []:
            email_enqueue_on_commit(schema_name=schema_name, email_id=pk)
    return moved


def stale_processing_requeue(*, older_than: timedelta, email_ids: list[int] | None = None) -> list[int]:
    """Emails left in `processing` by a worker that died: back to queued. Current schema; only
    `email_ids` when given (a turn that came due again finds its email so)."""
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        stale = Email.objects.select_for_update(skip_locked=True).filter(
            state=EmailState.PROCESSING, state_changed_at__lt=cutoff
        )
        if email_ids is not None:
            stale = stale.filter(pk__in=email_ids)
        ids = list(stale.values_list("pk", flat=True))
        # A message that kills its worker every time must not loop forever.
        exhausted = list(Email.objects.filter(pk__in=ids, attempts__gte=MAX_ATTEMPTS).values_list("pk", flat=True))
        ids = [pk for pk in ids if pk not in exhausted]
        now = timezone.now()
        reason = "Re-queued: the worker processing it stopped"
        failed = f"Failed: the worker stopped {MAX_ATTEMPTS} times while processing it"
        Email.objects.filter(pk__in=ids).update(state=EmailState.QUEUED, state_reason=reason, state_changed_at=now)
        Email.objects.filter(pk__in=exhausted).update(
            state=EmailState.FAILED, state_reason=failed, state_changed_at=now
        )
        EmailLog.objects.bulk_create(
            [EmailLog(email_id=pk, state=EmailState.QUEUED, message=reason) for pk in ids]
            + [EmailLog(email_id=pk, state=EmailState.FAILED, message=failed) for pk in exhausted]
        )
    return ids


def email_in_processing(email_id: int) -> bool:
    """Whether a worker holds the email now (current schema)."""
    return Email.objects.filter(pk=email_id, state=EmailState.PROCESSING).exists()


def queued_orphans_touch(*, older_than: timedelta) -> list[int]:
    """Queued emails untouched for `older_than`: their task was lost; returns them to be enqueued again.

    A task can vanish while the email stays queued: the enqueue after commit failed (database
    gone between the two), or the task failed before its claim and the broker acked it. Current
    schema. The caller enqueues the ids after commit; an extra task is harmless, the claim is
    atomic.
    """
    cutoff = timezone.now() - older_than
    reason = "Re-queued: its task was lost"
    with transaction.atomic():
        ids = list(
            Email.objects.select_for_update(skip_locked=True)
            .filter(state=EmailState.QUEUED, state_changed_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        # Touched, so the next sweep waits another `older_than` before trying again.
        Email.objects.filter(pk__in=ids).update(state_reason=reason, state_changed_at=timezone.now())
        EmailLog.objects.bulk_create([EmailLog(email_id=pk, state=EmailState.QUEUED, message=reason) for pk in ids])
    return ids
