"""django-q2 tasks of the pipeline. Tasks take ids plus `schema_name` and call one service.

Workers start on the public schema and reuse their connection across tasks, so a task that
left a tenant active would poison the next one: the pre_execute guard resets it first.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.dispatch import receiver
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.signals import pre_execute
from django_tenants.utils import schema_context

from billing.limits import processing_decision, project_creation_allowed
from config.schedules import schedules_update_or_create
from events.ai_batches import ai_batches_poll
from events.enqueue import email_enqueue, email_enqueue_on_commit, email_task_send
from events.models import Email, EmailState, HoldCause
from events.processing import (
    email_in_processing,
    email_process,
    emails_requeue,
    queued_orphans_touch,
    retry_delays,
    stale_processing_requeue,
)
from fairness.turns import TurnTaken, turn_due_count, turn_release, turn_take, turns_due
from organizations.models import Organization
from projects.selectors import open_project_count

logger = logging.getLogger(__name__)


def stale_after() -> timedelta:
    """How long `processing` may last before the worker is presumed dead: beyond the q2 task timeout.

    settings.PROJECTR_STALE_PROCESSING_SECONDS overrides it (the soak kills workers every 20 s).
    """
    configured = int(getattr(settings, "PROJECTR_STALE_PROCESSING_SECONDS", 0) or 0)
    if configured:
        return timedelta(seconds=configured)
    return timedelta(seconds=max(2 * int(settings.Q_CLUSTER.get("timeout") or 300), 600))


def orphan_after() -> timedelta:
    """How long an email may sit queued before its task is presumed lost: beyond the longest retry wait."""
    return stale_after() + timedelta(seconds=max(retry_delays()))


@receiver(pre_execute, dispatch_uid="projectr_public_schema_guard")
def public_schema_guard(sender: object, **kwargs: object) -> None:
    connection.set_schema_to_public()  # type: ignore[attr-defined]


def email_process_task(schema_name: str, email_id: int) -> str:
    """A worker's turn: the email whose turn it is across organizations (fairness.turns), not
    necessarily the one this task was queued for; that one's turn comes in its order.

    The worker goes on taking due turns, in their order, for a quarter of the task's timeout: a
    task is an invitation to work, not a ticket for one email, so mail whose tasks were lost
    (acked after failing, or fetched by a cluster that was killed) is still taken while any
    task runs. A turn whose email was taken meanwhile (the batch worker, a second task) is
    passed over. With no turn due, the named email itself: a task queued before turns existed,
    or one whose turn was lost, still processes its email. The claim keeps every email
    processed once. Returns the first email's state.
    """
    budget = time.monotonic() + turn_budget_seconds()
    first: str | None = None
    for _ in range(TURNS_PER_TASK):
        turn = turn_take(lease_seconds=turn_lease_seconds())
        if turn is None:
            break
        state = _email_process(turn.schema_name, turn.email_id, turn=turn)
        if state != "skipped":
            first = first or state
        if time.monotonic() >= budget:
            break
    return first or _email_process(schema_name, email_id)


# Enough that a lost task's mail is taken by another, few enough that a task ends in seconds
# when every email is quick.
TURNS_PER_TASK = 25


def turn_budget_seconds() -> float:
    """How long one task goes on taking turns: a quarter of the lease, so the email it takes last
    still ends well within the task's timeout."""
    return turn_lease_seconds() / 4


def turn_lease_seconds() -> float:
    """How long a taken turn waits before it is due again: past the task's timeout, by when the
    worker that took it has finished or been killed."""
    return float(int(settings.Q_CLUSTER.get("timeout") or 300) + 30)


def _email_process(schema_name: str, email_id: int, *, turn: TurnTaken | None = None) -> str:
    # An exception leaves the turn leased: it comes due again, and the claim decides then.
    try:
        result = email_process(schema_name=schema_name, email_id=email_id)
        if turn is not None and result.state == "skipped":
            if _stale_reclaimed(schema_name, email_id):
                result = email_process(schema_name=schema_name, email_id=email_id)
            elif _held_by_a_worker(schema_name, email_id):
                return "skipped"  # the turn stays leased: it comes due again while the email is held
    except Organization.DoesNotExist:  # deleted since: its mail went with it
        result = None
    if turn is not None:
        turn_release(turn)  # before a retry gives the email its next turn
    if result is None:
        return "skipped"
    if result.retry_in:
        email_enqueue(schema_name=schema_name, email_id=email_id, delay_seconds=result.retry_in)
    return result.state


def _stale_reclaimed(schema_name: str, email_id: int) -> bool:
    """A turn that came due again while its email is still `processing` since before the stale
    threshold: the worker that took it died (the task's timeout ended it long before). The turn
    puts it back and runs it, so mail of a killed worker waits for no sweep: the schedules run
    in a cluster only after 30 s of uptime, and the soak's kills starved them."""
    with schema_context(schema_name):
        return bool(stale_processing_requeue(older_than=stale_after(), email_ids=[email_id]))


def _held_by_a_worker(schema_name: str, email_id: int) -> bool:
    with schema_context(schema_name):
        return email_in_processing(email_id)


def _organizations() -> list[Organization]:
    return list(Organization.objects.filter(is_template=False, is_active=True).exclude(schema_name="public"))


def _enqueue_after_commit(schema_name: str, ids: list[int]) -> None:
    for email_id in ids:
        email_enqueue_on_commit(schema_name=schema_name, email_id=email_id)


def held_requeue_task() -> int:
    """Schedule: re-queue mail held by plan limits once the organization's limits allow it.

    Mail held for review (a loop, an unauthenticated sender) is left for an admin to judge.
    """
    moved = 0
    for organization in _organizations():
        with schema_context(organization.schema_name):
            held = Email.objects.filter(state=EmailState.HELD)
            causes = set(held.order_by().values_list("hold_cause", flat=True).distinct())
            resume: list[str] = []
            if causes & {HoldCause.PLAN_LIMIT, HoldCause.AI_BUDGET} and processing_decision(organization).allowed:
                resume += [HoldCause.PLAN_LIMIT, HoldCause.AI_BUDGET]
            if HoldCause.PROJECT_LIMIT in causes and project_creation_allowed(
                organization, current_count=open_project_count()
            ):
                resume.append(HoldCause.PROJECT_LIMIT)
            ids = list(held.filter(hold_cause__in=resume).values_list("pk", flat=True)) if resume else []
            if ids:
                with transaction.atomic():
                    requeued = emails_requeue(email_ids=ids)
                    _enqueue_after_commit(organization.schema_name, requeued)
                moved += len(requeued)
    return moved


def broker_idle() -> bool:
    """No task waiting in the broker: a queued email that old has really lost its task.

    While there is a backlog its task may simply not have come up yet, and re-enqueueing every
    old queued email each sweep would flood the queue with duplicates (the soak saw it).
    """
    try:
        return int(get_broker().queue_size() or 0) == 0
    except Exception:  # a broker we cannot ask is not idle
        logger.warning("Could not read the task queue's size", exc_info=True)
        return False


def tasks_top_up() -> int:
    """Due turns beyond the tasks in the broker get a task each; returns how many were sent.

    Every turn is given with a task, but a task can go without its turn being spent: one that
    failed before taking it (the database was away) is acked by the broker, and with Redis the
    tasks a killed cluster had fetched are gone. Those turns would wait for the orphan sweep,
    which waits for an idle broker. A task too many is harmless: it finds no turn due, and its
    own email's claim is refused.
    """
    try:
        broker = get_broker()
        in_broker = int(broker.queue_size() or 0) + int(broker.lock_size() or 0)
    except Exception:  # a broker we cannot ask is not topped up
        logger.warning("Could not read the task queue's size", exc_info=True)
        return 0
    missing = turn_due_count() - in_broker
    due = turns_due(limit=missing) if missing > 0 else []
    for schema_name, email_id in due:
        email_task_send(schema_name=schema_name, email_id=email_id)
    if due:
        logger.warning("Sent %s tasks for due turns that had none in the broker", len(due))
    return len(due)


def stale_requeue_task() -> int:
    """Schedule: re-queue emails whose worker died mid-task, and queued emails whose task was
    lost; send tasks for due turns that have none."""
    topped_up = tasks_top_up()
    moved = orphans = 0
    look_for_lost = broker_idle()
    for organization in _organizations():
        try:
            with schema_context(organization.schema_name), transaction.atomic():
                ids = stale_processing_requeue(older_than=stale_after())
                lost = queued_orphans_touch(older_than=orphan_after()) if look_for_lost else []
                _enqueue_after_commit(organization.schema_name, ids + lost)
        except DatabaseError:
            # One organization's broken schema (onboarding that died before creating it) must
            # not stop every other organization's mail from coming back.
            logger.exception("The stale sweep could not read %s", organization.schema_name)
            continue
        moved += len(ids)
        orphans += len(lost)
    if moved or orphans:
        logger.warning(
            "Re-queued %s emails left in processing and %s queued emails whose task was lost", moved, orphans
        )
    return moved + orphans + topped_up


def ai_batches_poll_task() -> int:
    """Schedule: where each open Message Batch of a backfill stands; the results of those that
    ended, applied (events.ai_batches). Returns how many ended."""
    return ai_batches_poll()


SCHEDULES = [
    {"name": name, "func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1}
    for name, func, minutes in (
        ("events: re-queue held mail", "events.tasks.held_requeue_task", 10),
        ("events: re-queue stale processing", "events.tasks.stale_requeue_task", 5),
        ("events: poll AI batches", "events.tasks.ai_batches_poll_task", 1),
    )
]


def schedules_ensure() -> list[Schedule]:
    """Create or update the pipeline's periodic schedules (idempotent; public schema)."""
    return schedules_update_or_create(SCHEDULES)
