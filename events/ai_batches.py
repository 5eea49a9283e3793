"""Backfills through the Message Batches API: half price, results within 24 hours.

A backfill (ingest_eml / import_mbox on many messages, `reprocess --all`) stores or re-queues its
emails without their per-email tasks and hands their ids to `backfill_dispatch`. With Claude as
the provider and more than PROJECTR_AI_BATCH_MIN of them allowed by the plan, they go to the API
as one Message Batch (one request per email, built by the per-email call's own request builder;
custom_id = schema + email id) and wait in state `batched`, recorded by a `usage.AIBatch` row;
otherwise each gets its per-email task, as before.

The `events: poll AI batches` schedule (events.tasks.ai_batches_poll_task) asks the API where each
open batch stands and, once it has ended, reads its results: each is claimed batched → processing
(an email no longer waiting for it is skipped), validated as a per-email answer is, its usage
recorded at batch prices and applied as the per-email worker applies
(events.processing.email_batch_result_apply). A request that errored, was canceled or expired
sends its email to the per-email queue.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.limits import ProcessingGate
from events.enqueue import email_enqueue_on_commit
from events.extraction_inputs import OpenProjects, context_build, email_input_build
from events.models import Email, EmailState
from events.processing import email_batch_result_apply, emails_batch_claim, emails_batch_release
from extraction import api
from extraction.text import skip_reason
from extraction.types import BatchProgress, ExtractionError
from organizations.models import Organization
from usage.models import AIBatch, AIBatchStatus

logger = logging.getLogger(__name__)

# Below the API's limits (100,000 requests or 256 MB per batch), so one batch's request stays sane.
BATCH_MAX_REQUESTS = 10_000
BATCH_MAX_BYTES = 200 * 1024 * 1024
# pg_try_advisory_lock(namespace, batch pk): one poll at a time applies a batch.
POLL_LOCK_NAMESPACE = 0x61696261  # "aiba"
OPEN_STATUSES = (AIBatchStatus.SUBMITTED, AIBatchStatus.PROCESSING)
# Ended batches the inbox still shows, so a person sees how the backfill finished.
SHOWN_AFTER_END = timedelta(days=1)


@dataclass
class Dispatch:
    """What became of a backfill's emails: in Message Batches, or queued one by one."""

    batches: list[AIBatch] = field(default_factory=list)
    batched: list[int] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)

    def line(self) -> str:
        if not self.batches:
            return f"{len(self.queued)} emails queued to be processed one by one"
        names = ", ".join(batch.batch_id for batch in self.batches)
        line = f"{len(self.batched)} emails sent to Claude as Message Batch {names} (half price)"
        return line + (f"; {len(self.queued)} queued one by one" if self.queued else "")


def custom_id(schema_name: str, email_id: int) -> str:
    """The batch request's id: the schema and the email's id ([A-Za-z0-9_-], at most 64)."""
    return f"{schema_name[:50]}-{email_id}"


def email_id_of(custom: str) -> int | None:
    _, _, tail = custom.rpartition("-")
    return int(tail) if tail.isdigit() else None


def batch_min() -> int:
    return int(getattr(settings, "PROJECTR_AI_BATCH_MIN", 20))


def batch_wanted(count: int) -> bool:
    """Whether `count` waiting emails make a batch: Claude is the provider and they are more than
    PROJECTR_AI_BATCH_MIN. The commands ask before storing, so small backfills and the rules
    provider keep today's path (each email's task queued as it is stored)."""
    return api.batch_enabled() and count > batch_min()


def backfill_dispatch(*, organization: Organization, email_ids: list[int], client: Any = None) -> Dispatch:
    """Send a backfill's queued emails (stored or re-queued without their tasks) through Message
    Batches when that is worth it, else queue each for the per-email worker.

    Emails the plan would hold, that would go to the rules fallback, or that need no call at all
    (auto-replies, lists: extraction.text.skip_reason) take the per-email path; the rest are
    batched only if they are still more than PROJECTR_AI_BATCH_MIN. A very large backfill is
    sent as several batches (BATCH_MAX_REQUESTS requests or BATCH_MAX_BYTES each).
    """
    with tenant_context(organization):
        enabled = api.batch_enabled()
        result = _dispatch(organization, email_ids, client) if enabled else Dispatch(queued=list(email_ids))
        for email_id in result.queued:
            email_enqueue_on_commit(schema_name=organization.schema_name, email_id=email_id)
        return result


def _dispatch(organization: Organization, email_ids: list[int], client: Any) -> Dispatch:
    result = Dispatch()
    waiting = Email.objects.filter(pk__in=email_ids, state=EmailState.QUEUED).order_by("received_at", "pk")
    ordered = list(waiting.values_list("pk", flat=True))
    gate = ProcessingGate(organization)
    chunk: list[tuple[int, dict[str, Any]]] = []
    size = 0
    stopped = False
    open_projects = OpenProjects()
    for email in _in_order(ordered):
        email_input = email_input_build(email)
        if stopped or skip_reason(email_input):
            result.queued.append(email.pk)
            continue
        decision = gate.decide()
        if not decision.allowed or decision.provider_override is not None:
            # Over a limit, or on the rules fallback: this email and the rest go one by one, to be
            # held or read by rules as the per-email worker decides.
            stopped = True
            result.queued.append(email.pk)
            continue
        context = context_build(email, open_projects)
        request = api.batch_request(custom_id(organization.schema_name, email.pk), email_input, context)
        request_size = len(json.dumps(request, default=str))
        if chunk and (len(chunk) >= BATCH_MAX_REQUESTS or size + request_size > BATCH_MAX_BYTES):
            _submit(organization, chunk, result, client)
            chunk, size = [], 0
        chunk.append((email.pk, request))
        size += request_size
    if result.batches or len(chunk) > batch_min():
        _submit(organization, chunk, result, client)
    else:
        result.queued = [pk for pk, _ in chunk] + result.queued
    return result


def _in_order(ids: list[int], step: int = 200) -> Iterator[Email]:
    """The emails, `step` rows at a time (a backfill's whole text is not held at once)."""
    for start in range(0, len(ids), step):
        rows = Email.objects.in_bulk(ids[start : start + step])
        yield from (rows[pk] for pk in ids[start : start + step] if pk in rows)


def _submit(organization: Organization, chunk: list[tuple[int, dict[str, Any]]], result: Dispatch, client: Any) -> None:
    """One Message Batch of `chunk`; its emails batched, or queued one by one if the API refuses it."""
    ids = [pk for pk, _ in chunk]
    try:
        progress = api.batch_submit([request for _, request in chunk], client=client)
    except ExtractionError as error:
        logger.warning(
            "Could not submit a Message Batch of %s emails (%s); processing them one by one", len(ids), error
        )
        result.queued += ids
        return
    with transaction.atomic():
        batched = emails_batch_claim(email_ids=ids, reason=f"In Message Batch {progress.batch_id}: submitted")
        batch = AIBatch.objects.create(
            organization=organization,
            batch_id=progress.batch_id,
            model=settings.PROJECTR_AI_MODEL,
            email_ids=batched,
            requests=len(ids),
            processing=progress.processing,
        )
    # An email taken by someone else between reading and claiming is skipped when the results come.
    logger.info("Submitted Message Batch %s of %s emails for %s", batch.batch_id, len(ids), organization.schema_name)
    result.batches.append(batch)
    result.batched += batched


# --- polling and applying ----------------------------------------------------------------------


def ai_batches_poll(*, client: Any = None) -> int:
    """Every open batch of every organization: its progress, and its results once it has ended.
    Returns how many batches ended in this run. Public schema."""
    ended = 0
    for batch in AIBatch.objects.filter(status__in=OPEN_STATUSES).select_related("organization").order_by("pk"):
        try:
            with _poll_lock(batch) as mine:
                if mine and ai_batch_poll(batch, client=client):
                    ended += 1
        except ExtractionError as error:  # the API is down or overloaded: the next run asks again
            logger.warning("Could not poll Message Batch %s: %s", batch.batch_id, error)
        except Exception:  # one batch's trouble must not stop the others
            logger.exception("Polling Message Batch %s crashed", batch.batch_id)
    return ended


@contextmanager
def _poll_lock(batch: AIBatch) -> Iterator[bool]:
    """A session advisory lock on the batch: a poll still applying a large batch when the next
    minute's starts keeps it to itself (the lock goes with the connection if the worker dies)."""
    key = [POLL_LOCK_NAMESPACE, batch.pk % 2**31]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        mine = bool(cursor.fetchone()[0])
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def ai_batch_poll(batch: AIBatch, *, client: Any = None) -> bool:
    """Ask the API where `batch` stands; apply its results once it has ended. True when it ended."""
    batch.refresh_from_db()
    if batch.status not in OPEN_STATUSES:
        return False
    try:
        progress = api.batch_progress(batch.batch_id, client=client)
    except ExtractionError as error:
        if "HTTP 404" not in str(error):
            raise
        # Gone at the API (deleted, another workspace): its emails are processed one by one.
        with tenant_context(batch.organization):
            batch.fallback += _release(batch, "the batch is gone at the API")
            return _end(batch)
    _progress_save(batch, progress)
    if progress.status != "ended":
        return False
    with tenant_context(batch.organization):
        return _results_apply(batch, client)


def _progress_save(batch: AIBatch, progress: BatchProgress) -> None:
    batch.status = AIBatchStatus.PROCESSING
    for name in ("processing", "succeeded", "errored", "canceled", "expired"):
        setattr(batch, name, getattr(progress, name))
    batch.checked_at = timezone.now()
    batch.save(update_fields=["status", "processing", "succeeded", "errored", "canceled", "expired", "checked_at"])


def apply_seconds() -> float:
    """How long one poll applies results before it leaves the rest to the next run: within the
    django-q2 task timeout, so a large batch is applied over several runs, never killed mid-email."""
    timeout = int(settings.Q_CLUSTER.get("timeout") or 240)
    return float(getattr(settings, "PROJECTR_AI_BATCH_APPLY_SECONDS", 0) or max(timeout / 2, 10))


def _results_apply(batch: AIBatch, client: Any) -> bool:
    """Read every result, then apply them in the emails' received order (a thread's first email
    files first, as the per-email path does); an email without a result goes one by one too.
    Stops after `apply_seconds()` with the batch still open: the next run goes on where this one
    stopped (what it applied is no longer batched), the counters adding up."""
    schema_name = batch.organization.schema_name
    waiting = set(Email.objects.filter(pk__in=batch.email_ids, state=EmailState.BATCHED).values_list("pk", flat=True))
    if batch.applied + batch.fallback + batch.skipped == 0:
        # Taken before the first result came (re-processed by hand): not this batch's any more.
        batch.skipped = len(batch.email_ids) - len(waiting)
    results: dict[int, Any] = {}
    for custom, line in api.batch_results(batch.batch_id, client=client):
        email_id = email_id_of(custom)
        if email_id in waiting and custom == custom_id(schema_name, email_id):
            results[email_id] = line
    started = time.monotonic()
    for done, email_id in enumerate(pk for pk in batch.email_ids if pk in waiting):
        if done and time.monotonic() - started > apply_seconds():
            batch.save(update_fields=["applied", "fallback", "skipped", "cost_usd"])
            return False
        line = results.get(email_id)
        if line is None:
            released = emails_batch_release(
                schema_name=schema_name, email_ids=[email_id], reason="No batch result; processing it on its own"
            )
            batch.fallback += len(released)
            continue
        outcome, spent = email_batch_result_apply(
            organization=batch.organization,
            email_id=email_id,
            read=functools.partial(api.batch_result_extract, line),
        )
        batch.cost_usd += spent
        if outcome.state == "skipped":
            batch.skipped += 1
        elif outcome.state == EmailState.QUEUED:
            batch.fallback += 1
        else:
            batch.applied += 1
    return _end(batch)


def _release(batch: AIBatch, why: str) -> int:
    return len(
        emails_batch_release(
            schema_name=batch.organization.schema_name,
            email_ids=list(batch.email_ids),
            reason=f"Message Batch {batch.batch_id}: {why}; processing it on its own",
        )
    )


def _end(batch: AIBatch) -> bool:
    batch.status = AIBatchStatus.ENDED
    batch.ended_at = batch.checked_at = timezone.now()
    batch.save()
    logger.info(
        "Message Batch %s ended: %s applied, %s one by one, %s skipped",
        batch.batch_id, batch.applied, batch.fallback, batch.skipped,
    )  # fmt: skip
    return True


def inbox_batches(organization: Organization) -> list[AIBatch]:
    """The organization's batches the inbox shows: open ones, and those ended in the last day."""
    recent = timezone.now() - SHOWN_AFTER_END
    return list(
        AIBatch.objects.filter(organization=organization)
        .exclude(status=AIBatchStatus.ENDED, ended_at__lt=recent)
        .defer("email_ids")
        .order_by("-created_at")[:5]
    )


def batch_rows_mark(emails: list[Email], batches: list[AIBatch]) -> None:
    """Give each batched email of an inbox page `batch_progress`: its batch's progress line."""
    waiting = {email.pk: email for email in emails if email.state == EmailState.BATCHED}
    open_ids = [batch.pk for batch in batches if batch.status in OPEN_STATUSES]
    if not waiting or not open_ids:
        return
    for batch_pk, ids in AIBatch.objects.filter(pk__in=open_ids).values_list("pk", "email_ids"):
        batch = next(b for b in batches if b.pk == batch_pk)
        for email_id in set(ids) & waiting.keys():
            waiting[email_id].batch_progress = f"Message Batch: {batch.progress}"  # type: ignore[attr-defined]
