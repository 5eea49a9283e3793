"""The Redis broker path: enqueue → Redis list → django-q2's worker → processed.

Runs against a real Redis when TEST_REDIS_URL is set (.ci/run sets it to
redis://127.0.0.1:6379/15 when a Redis answers on loopback); otherwise it is skipped with
the reason. REDIS_URL is never set for the test run: everything else keeps the ORM broker.

The worker is django-q2's own `worker()` function, fed from the Redis broker in this process
(the task marked sync so it shares the test's transaction and sees its rows); a separate
qcluster process could not see them.
"""

from __future__ import annotations

import os
import uuid
from multiprocessing import Queue, Value
from typing import Any
from unittest import mock

import pytest
from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.signing import SignedPackage
from django_q.worker import worker
from django_tenants.utils import schema_context

from events.enqueue import email_enqueue
from events.models import Email, EmailState
from tests.factories import EmailFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


@pytest.fixture
def redis_broker() -> Any:
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set: no Redis answered on loopback, so the Redis broker is not tested")
    list_key = f"projectr-test-{uuid.uuid4().hex[:8]}"
    with mock.patch.object(Conf, "REDIS", REDIS_URL), mock.patch.object(Conf, "ORM", None):
        broker = get_broker(list_key=list_key)
        assert isinstance(broker, Redis)
        if not broker.ping():
            pytest.skip(f"TEST_REDIS_URL={REDIS_URL} does not answer")
        with mock.patch("django_q.tasks.get_broker", return_value=broker):
            yield broker
        broker.delete_queue()


def run_worker(broker: Redis) -> list[dict[str, Any]]:
    """Everything in the Redis list through django-q2's worker; the results, acknowledged."""
    tasks: Queue[Any] = Queue()
    results: Queue[Any] = Queue()
    pending = broker.dequeue() or []
    for ack_id, payload in pending:
        task = SignedPackage.loads(payload)
        task["ack_id"] = ack_id
        task["sync"] = True  # keep the test's connection (and transaction)
        tasks.put(task)
    tasks.put("STOP")
    worker(tasks, results, Value("f", -1))
    done = [results.get(timeout=10) for _ in pending]
    for result in done:
        broker.acknowledge(result["ack_id"])
    return done


def test_it_processes_an_email_enqueued_through_redis(redis_broker, org):
    email = EmailFactory(state=EmailState.QUEUED, project=None)

    email_enqueue(schema_name=org.schema_name, email_id=email.pk)
    assert redis_broker.queue_size() == 1
    results = run_worker(redis_broker)

    assert [r["success"] for r in results] == [True]
    assert results[0]["result"] == EmailState.PROCESSED
    with schema_context(org.schema_name):  # the worker left the connection on public, as it should
        assert Email.objects.get(pk=email.pk).state == EmailState.PROCESSED
    assert redis_broker.queue_size() == 0


def test_a_delivery_is_stored_and_answered_while_redis_is_away(
    world: Any, public_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The email and its turn commit; the task that cannot reach Redis is a warning, and the
    turn waits for the next task or the sweep (a 400 would make Postmark retry, SNS give up)."""
    import json

    from fairness.models import Turn
    from tests.inbound.conftest import AUTH, POSTMARK_URL, make_message, postmark_payload

    with (
        mock.patch.object(Conf, "REDIS", "redis://127.0.0.1:1/0"),
        mock.patch.object(Conf, "ORM", None),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = public_client.post(
            POSTMARK_URL,
            data=json.dumps(postmark_payload(make_message())),
            content_type="application/json",
            HTTP_AUTHORIZATION=AUTH,
        )
    assert response.status_code == 200
    assert callbacks  # the task was to be sent after the commit, and was tried
    with schema_context(world.org.schema_name):
        email = Email.objects.get()
    assert email.state == EmailState.QUEUED
    assert Turn.objects.filter(schema_name=world.org.schema_name, email_id=email.pk).exists()
