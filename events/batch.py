"""Many emails at once: up to PROJECTR_AI_CONCURRENCY AI calls in flight from one process.

An AI call spends about a second waiting on the network, so a worker process that handles one
email at a time would drain a queue at ~1 email/s. Here a pool of threads shares the queued
ids of one organization; each thread runs the ordinary `email_process` (the same filtered-UPDATE
claim, so an email is still processed exactly once even when per-email tasks race with us)
and results are applied in each email's own transaction. Every thread has its own database
connection and closes it when it is done, so no connection outlives the batch.

The threads share what does not change from one email to the next (events.processing.BatchShared):
the organization, one billing gate (the exact per-email decision only near a limit) and one
reading of the open projects (read again when an email of the batch creates a project).
"""

from __future__ import annotations

import logging
import queue
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections
from django_tenants.utils import schema_context, tenant_context

from events.enqueue import email_enqueue
from events.models import Email, EmailState
from events.processing import BatchShared, FailureCause, ProcessResult, email_process, emails_requeue
from organizations.models import Organization

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    states: Counter[str] = field(default_factory=Counter)  # how many emails ended in each state
    retries: list[tuple[int, int]] = field(default_factory=list)  # (email id, delay in seconds)

    @property
    def total(self) -> int:
        return sum(self.states.values())


def queued_email_ids(*, schema_name: str, limit: int) -> list[int]:
    """The oldest queued emails of one organization (claimed later, one by one).

    Emails already tried (attempts > 0) wait for their scheduled retry task instead, so a
    failing call is not retried at once by the next batch.
    """
    with schema_context(schema_name):
        queued = Email.objects.filter(state=EmailState.QUEUED, attempts=0).order_by("received_at", "pk")
        return list(queued.values_list("pk", flat=True)[:limit])


def _drain(schema_name: str, ids: queue.SimpleQueue[int], shared: BatchShared) -> list[tuple[int, ProcessResult]]:
    """One thread: take ids until none are left, then close this thread's connection."""
    done: list[tuple[int, ProcessResult]] = []
    try:
        # The organization itself, not only its schema: see events.processing.email_process.
        with tenant_context(shared.organization):
            while True:
                try:
                    email_id = ids.get_nowait()
                except queue.Empty:
                    return done
                try:
                    processed = email_process(schema_name=schema_name, email_id=email_id, shared=shared)
                    if processed.failure == FailureCause.APPLY_RACE:
                        # Two threads created the same new project at once; the loser finds it now.
                        emails_requeue(email_ids=[email_id])
                        processed = email_process(schema_name=schema_name, email_id=email_id, shared=shared)
                    done.append((email_id, processed))
                except Exception:
                    # email_process records its own failures; this is a database or programming error.
                    logger.exception("Processing email %s of %s crashed", email_id, schema_name)
                    done.append((email_id, ProcessResult(state="crashed")))
    finally:
        connections.close_all()


def emails_process_batch(
    *, schema_name: str, email_ids: list[int] | None = None, limit: int = 500, concurrency: int | None = None
) -> BatchResult:
    """Process queued emails of one organization with `concurrency` threads (settings default).

    Without `email_ids`, takes up to `limit` of the oldest queued ones. Emails that need a
    retry are returned in `retries`; the caller schedules them (emails_process_batch_task below).
    """
    if email_ids is None:
        email_ids = queued_email_ids(schema_name=schema_name, limit=limit)
    result = BatchResult()
    if not email_ids:
        return result
    ids: queue.SimpleQueue[int] = queue.SimpleQueue()
    for email_id in email_ids:
        ids.put(email_id)
    shared = BatchShared.for_organization(Organization.objects.get(schema_name=schema_name))
    threads = max(1, min(concurrency or settings.PROJECTR_AI_CONCURRENCY, len(email_ids)))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="projectr-ai") as pool:
        futures = [pool.submit(_drain, schema_name, ids, shared) for _ in range(threads)]
        for future in futures:
            for email_id, processed in future.result():
                result.states[processed.state] += 1
                if processed.retry_in:
                    result.retries.append((email_id, processed.retry_in))
    return result


def emails_process_batch_task(schema_name: str, limit: int = 500) -> dict[str, int]:
    """django-q2 task: one batch of an organization's queued mail; retries scheduled as usual."""
    result = emails_process_batch(schema_name=schema_name, limit=limit)
    for email_id, delay in result.retries:
        email_enqueue(schema_name=schema_name, email_id=email_id, delay_seconds=delay)
    return dict(result.states)
