"""Putting an email's processing on the task queue: now, after commit, later (a retry), or as
rows the webhook writes in the statement that stores the email.

Every queued email gets its turn (fairness.turns) and a task; the task is a token that runs
whichever email's turn it is across organizations, so one organization's backlog in the
broker does not hold back another's mail (events.tasks.email_process_task).

Below both the worker (events.processing, which re-queues) and the tasks (events.tasks, which
run it): the task is named by its dotted path, so nothing here imports them.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule
from django_q.tasks import async_task, schedule

from fairness.turns import turn_add, turn_row

PROCESS_TASK = "events.tasks.email_process_task"
logger = logging.getLogger(__name__)


def email_enqueue(*, schema_name: str, email_id: int, delay_seconds: int | None = None) -> None:
    """Give one queued email its turn and queue a task for it (a retry: both due in `delay_seconds`).

    Inside the caller's transaction the turn commits with it; the task is sent at once.
    """
    turn_add(schema_name=schema_name, email_id=email_id, delay_seconds=delay_seconds or 0)
    email_task_send(schema_name=schema_name, email_id=email_id, delay_seconds=delay_seconds)


def email_task_send(*, schema_name: str, email_id: int, delay_seconds: int | None = None) -> None:
    """Only the task (the token), for an email whose turn is already given."""
    if delay_seconds:
        schedule(
            PROCESS_TASK,
            schema_name,
            email_id,
            name=f"retry {schema_name} email {email_id} {timezone.now():%Y%m%d%H%M%S%f}",
            schedule_type=Schedule.ONCE,
            repeats=1,
            next_run=timezone.now() + timedelta(seconds=delay_seconds),
        )
    else:
        async_task(PROCESS_TASK, schema_name, email_id, task_name=f"email {schema_name} {email_id}", group="email")


def email_enqueue_on_commit(*, schema_name: str, email_id: int) -> None:
    """Queue the processing of an email that the current transaction stores or re-queues.

    With the database as the broker the task row is written in the same transaction: it
    commits with the email or not at all (no task lost between the two commits, and one WAL
    flush instead of two, which the webhook's latency feels). Redis cannot take part in our
    transaction, so there the task is sent once the email and its turn have committed. A send
    that fails then (Redis away) loses nothing: the turn waits, any task takes it, and the
    stale sweep sends a task for a due turn that has none (events.tasks.tasks_top_up). So the
    failure is a warning, not the webhook's error: Postmark would retry a 400 it need not, and
    SNS does not retry one at all.
    """
    if Conf.ORM and not Conf.SYNC and not connection.get_autocommit():
        # The ORM broker would otherwise close old connections before its insert.
        email_enqueue(schema_name=schema_name, email_id=email_id)
        return
    turn_add(schema_name=schema_name, email_id=email_id)
    if connection.get_autocommit():
        _task_send_after_turn(schema_name, email_id)
    else:
        transaction.on_commit(lambda: _task_send_after_turn(schema_name, email_id))


def _task_send_after_turn(schema_name: str, email_id: int) -> None:
    if Conf.SYNC:  # tests run the task here and now: its errors are theirs to see
        email_task_send(schema_name=schema_name, email_id=email_id)
        return
    try:
        email_task_send(schema_name=schema_name, email_id=email_id)
    except Exception:  # the broker's own errors (redis.ConnectionError, …); the turn is stored
        logger.warning(
            "Could not send the task for email %s of %s; its turn waits for the next task",
            email_id,
            schema_name,
            exc_info=True,
        )


class _TaskRowBroker(ORM):
    """django-q2's ORM broker, except that the task's row is handed back unsaved.

    async_task still builds and signs the task; the webhook then writes the row in the
    statement that stores the email (events.ingest.email_store).
    """

    def __init__(self) -> None:
        super().__init__(list_key=Conf.CLUSTER_NAME)
        self.rows: list[OrmQ] = []

    @staticmethod
    def get_connection(list_key: str | None = None) -> Any:
        # The ORM broker's own closes old connections first when in autocommit, which here
        # would cost a reconnect on every delivery; nothing is read or written through it.
        return OrmQ.objects.using(Conf.ORM)

    def enqueue(self, task: str) -> None:
        self.rows.append(OrmQ(key=self.list_key, payload=task, lock=timezone.now()))


def email_task_rows(*, schema_name: str, email_id: int) -> list[list[Model]] | None:
    """The rows queuing an email's processing, to insert in the statement that stores it: its
    turn, and the broker's task row (one list per table, as config.sql.rows_insert takes them).

    With the database as the broker both then commit with the email or not at all. None when
    the broker is elsewhere (Redis, or SYNC in tests): then call email_enqueue_on_commit once
    the email is stored.
    """
    if not Conf.ORM or Conf.SYNC:
        return None
    broker = _TaskRowBroker()
    async_task(
        PROCESS_TASK, schema_name, email_id, task_name=f"email {schema_name} {email_id}", group="email", broker=broker
    )
    return [[turn_row(schema_name=schema_name, email_id=email_id)], list(broker.rows)]
