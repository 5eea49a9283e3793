"""Tasks run whichever email's turn it is (fairness.turns), each email still processed once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_tenants.utils import schema_context

from events.enqueue import email_enqueue_on_commit
from events.models import Email, EmailLog, EmailState
from events.tasks import email_process_task, tasks_top_up
from extraction.types import RetryableExtractionError
from fairness.models import Turn
from fairness.turns import turn_add, turn_take
from organizations.models import Organization
from tests.conftest import _get_or_create_org
from tests.factories import EmailFactory
from tests.inbound.conftest import AUTH, POSTMARK_URL, make_message, postmark_payload


def queued(organization: Organization, count: int) -> list[int]:
    """Emails queued as the webhook and the commands queue them: a turn and a task each."""
    with schema_context(organization.schema_name), transaction.atomic():
        ids = [EmailFactory(state=EmailState.QUEUED, project=None).pk for _ in range(count)]
        for email_id in ids:
            email_enqueue_on_commit(schema_name=organization.schema_name, email_id=email_id)
    return ids


def state(organization: Organization, email_id: int) -> str:
    with schema_context(organization.schema_name):
        return str(Email.objects.get(pk=email_id).state)


def test_a_delivery_writes_its_turn_in_the_statement_that_stores_it(world, public_client, broker_tasks):
    payload = json.dumps(postmark_payload(make_message()))
    with CaptureQueriesContext(connection) as queries:
        response = public_client.post(
            POSTMARK_URL, data=payload, content_type="application/json", HTTP_AUTHORIZATION=AUTH
        )
    assert response.status_code == 200
    with schema_context(world.org.schema_name):
        email = Email.objects.get()
    assert Turn.objects.filter(schema_name=world.org.schema_name, email_id=email.pk).count() == 1
    store = [q["sql"] for q in queries.captured_queries if 'INSERT INTO "public"."fairness_turn"' in q["sql"]]
    assert len(store) == 1 and f'INSERT INTO "{world.org.schema_name}"."events_email"' in store[0]
    assert len(broker_tasks()) == 1


def test_a_task_runs_the_email_whose_turn_it_is_before_another_organizations_backlog(org, other_org, broker_tasks):
    flood = queued(other_org, 5)
    quiet = queued(org, 1)
    # The broker holds the flood's five tasks ahead of the quiet organization's one.
    assert next(args for _, args in broker_tasks()) == (other_org.schema_name, flood[0])
    with mock.patch("events.tasks.email_process", wraps=__import__("events.tasks").tasks.email_process) as process:
        assert email_process_task(other_org.schema_name, flood[0]) == EmailState.PROCESSED
    taken = [(c.kwargs["schema_name"], c.kwargs["email_id"]) for c in process.call_args_list]
    assert taken[0] == (org.schema_name, quiet[0])  # the quiet organization's email first
    assert taken[1:] == [(other_org.schema_name, email_id) for email_id in flood]  # then the flood, in order
    assert not Turn.objects.exists()


def test_a_task_stops_taking_turns_once_its_time_is_spent(org, broker_tasks):
    waiting = queued(org, 3)
    with mock.patch("events.tasks.turn_budget_seconds", return_value=0.0):
        assert email_process_task(org.schema_name, waiting[0]) == EmailState.PROCESSED
    assert [state(org, email_id) for email_id in waiting] == [EmailState.PROCESSED, *[EmailState.QUEUED] * 2]


def test_a_task_takes_the_mail_whose_tasks_were_lost(org, broker_tasks):
    waiting = queued(org, 4)
    OrmQ.objects.all().delete()  # acked after failing, or fetched by a cluster that was killed
    email_enqueue_on_commit(schema_name=org.schema_name, email_id=waiting[0])  # one task left
    email_process_task(org.schema_name, waiting[0])
    assert [state(org, email_id) for email_id in waiting] == [EmailState.PROCESSED] * 4


def test_a_turn_whose_email_was_taken_meanwhile_is_passed_over(org, broker_tasks):
    done, waiting = queued(org, 2)
    with schema_context(org.schema_name):
        Email.objects.filter(pk=done).update(state=EmailState.PROCESSED)
    with mock.patch("events.tasks.email_process", wraps=__import__("events.tasks").tasks.email_process) as process:
        assert email_process_task(org.schema_name, done) == EmailState.PROCESSED
    assert [c.kwargs["email_id"] for c in process.call_args_list] == [done, waiting]
    assert state(org, waiting) == EmailState.PROCESSED


def test_a_task_with_no_turn_due_processes_the_email_it_names(org):
    with schema_context(org.schema_name):
        email = EmailFactory(state=EmailState.QUEUED, project=None)  # queued before turns existed
    assert email_process_task(org.schema_name, email.pk) == EmailState.PROCESSED


def test_a_turn_of_a_deleted_organization_is_passed_over(org):
    turn_add(schema_name="org_gone", email_id=1)
    with schema_context(org.schema_name):
        email = EmailFactory(state=EmailState.QUEUED, project=None)
    assert email_process_task(org.schema_name, email.pk) == EmailState.PROCESSED
    assert not Turn.objects.exists()


def test_a_retry_gets_a_turn_due_when_its_task_runs(org, broker_tasks):
    (email_id,) = queued(org, 1)
    with mock.patch("events.processing.extract", autospec=True, side_effect=RetryableExtractionError("429")):
        assert email_process_task(org.schema_name, email_id) == EmailState.QUEUED
    turn = Turn.objects.get(schema_name=org.schema_name, email_id=email_id)
    retry = Schedule.objects.get(func="events.tasks.email_process_task")
    assert abs((turn.available_at - retry.next_run).total_seconds()) < 5
    # Not due yet: another task does not take it early.
    other = queued(org, 1)[0]
    assert email_process_task(org.schema_name, other) == EmailState.PROCESSED
    assert state(org, email_id) == EmailState.QUEUED


def test_an_email_whose_worker_died_after_taking_its_turn_is_processed_when_the_lease_ends(org, broker_tasks):
    first, second = queued(org, 2)
    assert turn_take(lease_seconds=60) is not None  # the worker is SIGKILLed here, before its claim
    assert email_process_task(org.schema_name, second) == EmailState.PROCESSED
    assert state(org, first) == EmailState.QUEUED  # its turn is leased to the dead worker
    Turn.objects.filter(email_id=first).update(available_at=timezone.now() - timedelta(seconds=1))
    assert email_process_task(org.schema_name, second) == EmailState.PROCESSED  # the redelivered task
    assert state(org, first) == EmailState.PROCESSED
    assert not Turn.objects.exists()


def test_a_task_that_fails_before_its_claim_leaves_its_turn_to_come_due_again(org):
    (email_id,) = queued(org, 1)
    with (
        mock.patch("events.tasks.email_process", autospec=True, side_effect=OperationalError("connection lost")),
        pytest.raises(OperationalError),
    ):
        email_process_task(org.schema_name, email_id)
    assert Turn.objects.filter(schema_name=org.schema_name, email_id=email_id).exists()
    assert state(org, email_id) == EmailState.QUEUED


def test_the_sweep_sends_a_task_for_each_due_turn_the_broker_lost(org, broker_tasks):
    waiting = queued(org, 3)
    OrmQ.objects.filter(pk__in=OrmQ.objects.order_by("pk").values("pk")[:2]).delete()  # acked after failing
    assert len(broker_tasks()) == 1
    assert tasks_top_up() == 2
    assert sorted(args for _, args in broker_tasks()) == [(org.schema_name, pk) for pk in sorted(waiting)]
    assert tasks_top_up() == 0  # every due turn has its task now


def test_the_sweep_sends_nothing_while_turns_are_leased_or_waiting_for_a_retry(org, broker_tasks):
    (leased,) = queued(org, 1)
    OrmQ.objects.all().delete()
    assert turn_take(lease_seconds=60) is not None
    turn_add(schema_name=org.schema_name, email_id=leased + 1, delay_seconds=60)
    assert tasks_top_up() == 0
    assert broker_tasks() == []


# --- racing workers: their own connections, so these rows are committed -----------------------
@pytest.fixture
def committed_orgs(session_orgs: Any, django_db_blocker: Any) -> Iterator[tuple[Organization, Organization]]:
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        organizations = (_get_or_create_org("fairflood", "Fair Flood"), _get_or_create_org("fairquiet", "Fair Quiet"))
        yield organizations
        connection.set_schema_to_public()
        Turn.objects.all().delete()
        for organization in organizations:
            with schema_context(organization.schema_name):
                EmailLog.objects.all().delete()
                Email.objects.all().delete()
        from django_q.models import OrmQ

        OrmQ.objects.all().delete()


def test_racing_workers_process_every_email_of_both_organizations_exactly_once(committed_orgs):
    flood_org, quiet_org = committed_orgs
    flood, quiet = queued(flood_org, 24), queued(quiet_org, 6)
    tasks = [(flood_org.schema_name, email_id) for email_id in flood] + [
        (quiet_org.schema_name, email_id) for email_id in quiet
    ]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while True:
                with lock:
                    if not tasks:
                        return
                    schema_name, email_id = tasks.pop(0)
                email_process_task(schema_name, email_id)
        except Exception as error:  # noqa: BLE001 - reported below, whatever it is
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for organization, ids in ((flood_org, flood), (quiet_org, quiet)):
        with schema_context(organization.schema_name):
            assert set(Email.objects.filter(pk__in=ids).values_list("state", flat=True)) == {EmailState.PROCESSED}
            claims = EmailLog.objects.filter(email_id__in=ids, state=EmailState.PROCESSING)
            assert claims.count() == len(ids)
    assert not Turn.objects.exists()


def test_a_turn_whose_email_a_worker_still_holds_stays_for_later(org, broker_tasks):
    (email_id,) = queued(org, 1)
    with schema_context(org.schema_name):
        Email.objects.filter(pk=email_id).update(state=EmailState.PROCESSING, state_changed_at=timezone.now())
    assert email_process_task(org.schema_name, email_id) == "skipped"
    turn = Turn.objects.get(schema_name=org.schema_name, email_id=email_id)
    assert turn.available_at > timezone.now()  # leased again, not spent
    assert state(org, email_id) == EmailState.PROCESSING


def test_a_turn_whose_worker_died_mid_email_runs_it_again_without_waiting_for_the_sweep(org, settings, broker_tasks):
    settings.PROJECTR_STALE_PROCESSING_SECONDS = 60
    (email_id,) = queued(org, 1)
    with schema_context(org.schema_name):
        left = timezone.now() - timedelta(minutes=5)  # claimed, then the worker was SIGKILLed
        Email.objects.filter(pk=email_id).update(state=EmailState.PROCESSING, state_changed_at=left, attempts=1)
    assert email_process_task(org.schema_name, email_id) == EmailState.PROCESSED
    assert state(org, email_id) == EmailState.PROCESSED
    assert not Turn.objects.exists()
    with schema_context(org.schema_name):
        messages = list(EmailLog.objects.filter(email_id=email_id).values_list("message", flat=True))
    assert "Re-queued: the worker processing it stopped" in messages
