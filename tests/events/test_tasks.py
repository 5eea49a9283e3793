from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.signals import pre_execute
from django_q.signing import SignedPackage
from django_tenants.utils import schema_context

from billing.limits import ProcessingDecision
from events.enqueue import PROCESS_TASK, email_enqueue_on_commit, email_task_rows
from events.models import Email, EmailState, HoldCause
from events.processing import email_claim
from events.tasks import SCHEDULES, email_process_task, held_requeue_task, schedules_ensure, stale_requeue_task
from extraction.api import extract as real_extract
from extraction.types import RetryableExtractionError
from fairness.models import Turn
from inbound.models import Delivery, Verdict
from organizations.models import Organization
from tests.factories import EmailFactory
from tests.inbound.conftest import AUTH, POSTMARK_URL, make_message, postmark_payload


@pytest.fixture
def q_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 runs each task inline (worker and monitor) instead of queueing it."""
    monkeypatch.setattr(Conf, "SYNC", True)


def test_the_guard_puts_the_connection_back_on_public_before_every_task(org):
    assert connection.schema_name == org.schema_name
    pre_execute.send(sender="django_q", func=email_process_task, task={})
    assert connection.schema_name == "public"


def test_the_task_processes_one_email(org):
    email = EmailFactory(state=EmailState.QUEUED, project=None)
    assert email_process_task(org.schema_name, email.pk) == EmailState.PROCESSED


def test_a_transient_failure_schedules_a_retry_later(org):
    email = EmailFactory(state=EmailState.QUEUED, project=None)
    with mock.patch("events.processing.extract", autospec=True, side_effect=RetryableExtractionError("429")):
        assert email_process_task(org.schema_name, email.pk) == EmailState.QUEUED
    retry = Schedule.objects.get(func="events.tasks.email_process_task")
    assert retry.schedule_type == Schedule.ONCE
    assert retry.args == repr((org.schema_name, email.pk)) or str(email.pk) in str(retry.args)
    assert retry.next_run > timezone.now() + timedelta(seconds=30)


class Rollback(Exception):
    pass


def test_with_the_database_broker_the_task_commits_with_the_email_or_not_at_all(org, broker_tasks):
    kept, dropped = EmailFactory(state=EmailState.QUEUED), EmailFactory(state=EmailState.QUEUED)
    with transaction.atomic():
        email_enqueue_on_commit(schema_name=org.schema_name, email_id=kept.pk)
        assert broker_tasks() == [(PROCESS_TASK, (org.schema_name, kept.pk))]
    with pytest.raises(Rollback), transaction.atomic():
        email_enqueue_on_commit(schema_name=org.schema_name, email_id=dropped.pk)
        raise Rollback
    assert broker_tasks() == [(PROCESS_TASK, (org.schema_name, kept.pk))]


def test_with_a_broker_outside_the_database_the_task_is_sent_after_commit(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "ORM", None)
    email = EmailFactory(state=EmailState.QUEUED)
    with mock.patch("events.enqueue.async_task") as async_task:
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            email_enqueue_on_commit(schema_name=org.schema_name, email_id=email.pk)
        assert not async_task.called
        callbacks[0]()
    assert async_task.call_args.args == (PROCESS_TASK, org.schema_name, email.pk)


def test_a_webhook_delivery_is_processed_by_the_queue_after_commit(
    world, q_sync, public_client, django_capture_on_commit_callbacks
):
    payload = json.dumps(postmark_payload(make_message()))
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post(
            POSTMARK_URL, data=payload, content_type="application/json", HTTP_AUTHORIZATION=AUTH
        )
    assert response.status_code == 200
    assert Delivery.objects.get().verdict == Verdict.ACCEPTED
    with schema_context(world.org.schema_name):
        assert Email.objects.get().state == EmailState.PROCESSED


def test_a_worker_killed_mid_task_gets_its_email_processed_once_after_restart(
    org, q_sync, django_capture_on_commit_callbacks
):
    email = EmailFactory(state=EmailState.QUEUED, project=None)
    email_claim(email.pk)  # the worker claimed it and died before finishing
    Email.objects.filter(pk=email.pk).update(state_changed_at=timezone.now() - timedelta(hours=1))
    with (
        mock.patch("events.processing.extract", wraps=real_extract) as extract,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert stale_requeue_task() == 1
    with schema_context(org.schema_name):
        email.refresh_from_db()
    assert email.state == EmailState.PROCESSED
    assert stale_requeue_task() == 0  # nothing left in processing, no turn waiting
    assert extract.call_count == 1


def test_held_mail_is_requeued_when_the_plan_allows_but_loop_holds_wait_for_an_admin(
    org, django_capture_on_commit_callbacks
):
    plan_held = EmailFactory(state=EmailState.HELD, hold_cause=HoldCause.PLAN_LIMIT, state_reason="500 emails")
    # Its words say "Plan limit", its cause does not: the cause decides.
    loop_held = EmailFactory(state=EmailState.HELD, hold_cause=HoldCause.MAIL_LOOP, state_reason="Plan limit: x")
    with mock.patch("events.tasks.processing_decision", return_value=ProcessingDecision(allowed=False)):
        assert held_requeue_task() == 0
    with (
        mock.patch("events.enqueue.async_task") as async_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert held_requeue_task() == 1
    with schema_context(org.schema_name):
        plan_held.refresh_from_db()
        loop_held.refresh_from_db()
    assert (plan_held.state, loop_held.state) == (EmailState.QUEUED, EmailState.HELD)
    assert async_task.call_args.args[1:] == (org.schema_name, plan_held.pk)


def test_the_schedules_are_created_once(db):
    schedules_ensure()
    schedules_ensure()
    names = [spec["name"] for spec in SCHEDULES]
    assert Schedule.objects.filter(name__in=names).count() == len(names) == 3
    assert set(Schedule.objects.filter(name__in=names).values_list("func", flat=True)) == {
        "events.tasks.held_requeue_task",
        "events.tasks.stale_requeue_task",
        "events.tasks.ai_batches_poll_task",
    }


def test_the_task_row_is_built_signed_but_left_for_the_email_s_own_statement(org, broker_tasks):
    turns, rows = email_task_rows(schema_name=org.schema_name, email_id=41)
    assert broker_tasks() == []
    assert not Turn.objects.exists()
    assert [(turn.schema_name, turn.email_id, turn.pk) for turn in turns] == [(org.schema_name, 41, None)]
    assert len(rows) == 1 and rows[0].pk is None
    package = SignedPackage.loads(rows[0].payload)
    assert (package["func"], tuple(package["args"])) == (PROCESS_TASK, (org.schema_name, 41))
    assert rows[0].key == Conf.CLUSTER_NAME


def test_without_the_database_broker_there_is_no_task_row_to_write(org, q_sync):
    assert email_task_rows(schema_name=org.schema_name, email_id=41) is None


def test_an_organization_without_its_schema_does_not_stop_the_sweep_for_the_others(
    org, other_org, settings, django_capture_on_commit_callbacks
):
    settings.PROJECTR_STALE_PROCESSING_SECONDS = 60
    stale = EmailFactory(state=EmailState.PROCESSING, project=None, attempts=1)
    Email.objects.filter(pk=stale.pk).update(state_changed_at=timezone.now() - timedelta(hours=1))
    # Onboarding that died between the organization's row and its schema.
    Organization.objects.filter(pk=other_org.pk).update(schema_name="org_never_created")
    with mock.patch("events.enqueue.async_task"), django_capture_on_commit_callbacks(execute=True):
        assert stale_requeue_task() >= 1
    with schema_context(org.schema_name):
        assert Email.objects.get(pk=stale.pk).state == EmailState.QUEUED
