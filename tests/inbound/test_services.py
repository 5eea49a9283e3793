from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from events.enqueue import PROCESS_TASK
from events.models import Email, EmailState, HoldCause
from inbound.models import Delivery, Verdict
from inbound.services import Received, delivery_receive
from organizations.models import SenderPolicy
from tests.inbound.conftest import make_message, postmark_payload


def received(provider="postmark", event_id="", esp_event=None, **kwargs):
    """A message as a provider delivers it; Postmark's payload carries its SPF and SpamAssassin
    verdicts (an SPF pass for the sender's domain unless `esp_event` says otherwise)."""
    raw = make_message(**kwargs)
    if esp_event is None and provider == "postmark":
        esp_event = postmark_payload(raw)
    return Received(
        provider=provider,
        message=message_from_bytes(raw, _class=EmailMessage, policy=default),
        raw=raw,
        event_id=event_id,
        envelope_sender="owner@testorg.test",
        envelope_recipient="testorg@in.localhost",
        esp_event=esp_event,
    )


def test_it_holds_live_mail_beyond_the_loop_limit(world, settings):
    settings.INBOUND_LOOP_LIMIT = 3
    outcomes = [delivery_receive(received=received(message_id=f"<loop-{i}@x.test>")) for i in range(5)]
    assert [o.verdict for o in outcomes] == [Verdict.ACCEPTED] * 3 + [Verdict.HELD] * 2
    with schema_context(world.org.schema_name):
        held = Email.objects.get(pk=outcomes[-1].email_id)
    assert (held.state, held.hold_cause) == (EmailState.HELD, HoldCause.MAIL_LOOP)
    assert held.state_reason.startswith("Mail loop")
    assert Delivery.objects.get(email_code=held.code).cause == HoldCause.MAIL_LOOP


def test_backfills_are_not_subject_to_the_loop_limit(world, settings):
    settings.INBOUND_LOOP_LIMIT = 2
    outcomes = [
        delivery_receive(received=received(provider="eml", message_id=f"<b-{i}@x.test>"), backfill=True, enqueue=False)
        for i in range(4)
    ]
    assert {o.verdict for o in outcomes} == {Verdict.ACCEPTED}
    live = delivery_receive(received=received(message_id="<live@x.test>"))
    assert live.verdict == Verdict.ACCEPTED


def test_it_rejects_an_oversized_message_with_the_reason(world, settings):
    settings.INBOUND_MAX_MESSAGE_BYTES = 100
    outcome = delivery_receive(received=received())
    assert outcome.verdict == Verdict.REJECTED
    assert "too large" in outcome.reason
    assert not outcome.stored


def test_it_stores_an_auto_reply_from_a_member_as_ignored(world):
    outcome = delivery_receive(received=received(headers={"Auto-Submitted": "auto-replied"}))
    assert outcome.verdict == Verdict.IGNORED
    with schema_context(world.org.schema_name):
        assert Email.objects.get().state == EmailState.IGNORED


def test_it_only_logs_an_auto_reply_from_a_stranger(world):
    outcome = delivery_receive(received=received(sender="robot@elsewhere.test", headers={"Precedence": "bulk"}))
    assert (outcome.verdict, outcome.stored) == (Verdict.IGNORED, False)


def test_it_skips_the_sender_check_when_asked(world):
    outcome = delivery_receive(received=received(sender="stranger@elsewhere.test"), check_sender=False, enqueue=False)
    assert outcome.verdict == Verdict.ACCEPTED


def test_a_message_without_message_id_gets_a_stable_derived_one(world):
    first = delivery_receive(received=received(message_id=None))
    second = delivery_receive(received=received(message_id=None))
    assert first.verdict == Verdict.ACCEPTED
    assert second.verdict == Verdict.DUPLICATE
    assert first.delivery.message_id == second.delivery.message_id
    assert first.delivery.message_id.endswith("@derived.projectr.invalid>")


def test_the_delivery_row_keeps_metadata_and_no_body(world):
    outcome = delivery_receive(received=received(event_id="ev-9"))
    delivery = Delivery.objects.get(pk=outcome.delivery.pk)
    assert delivery.sender == "owner@testorg.test"
    assert delivery.recipient == "testorg@in.localhost"
    assert delivery.event_id == "ev-9"
    assert delivery.message_id == "<kickoff-1@client.test>"
    assert delivery.size > 0
    assert not any("Let's meet" in str(value) for value in vars(delivery).values())


def test_the_same_message_id_in_two_organizations_is_stored_in_each(world, other_org):
    delivery_receive(received=received())
    other = delivery_receive(received=received(), organization=other_org, check_sender=False)
    assert other.verdict == Verdict.ACCEPTED


def test_an_accepted_message_is_stored_with_its_delivery_and_task_in_one_statement(world, broker_tasks, route_cache):
    world.org.sender_policy = SenderPolicy.ANYONE  # as most organizations: no membership lookup
    world.org.save()
    delivery_receive(received=received(message_id="<warms-the-route-cache@x.test>"))
    with CaptureQueriesContext(connection) as queries:
        outcome = delivery_receive(received=received(message_id="<one-statement@x.test>"))
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    writes = [sql for sql in statements if "INSERT" in sql]
    assert len(writes) == 1
    schema = world.org.schema_name
    for table in (f'"{schema}"."events_email"', f'"{schema}"."events_emaillog"', '"public"."inbound_delivery"'):
        assert f"INSERT INTO {table}" in writes[0]
    assert 'INSERT INTO "public"."django_q_ormq"' in writes[0]
    # Besides the write only the loop check, which also takes the email's id: every table is
    # named with its schema, so the connection's search path is never switched.
    assert len(statements) == 2, statements
    assert not [sql for sql in statements if "search_path" in sql]
    assert broker_tasks()[-1] == (PROCESS_TASK, (world.org.schema_name, outcome.email_id))
    assert Delivery.objects.get(pk=outcome.delivery.pk).email_code is not None
    with schema_context(world.org.schema_name):
        email = Email.objects.get(pk=outcome.email_id)
    assert email.code == outcome.delivery.email_code
    (log,) = email.logs.all()
    assert log.message.startswith("Received; sender authenticated: SPF pass aligned with From for testorg.test")


def test_storing_leaves_the_connection_on_its_search_path_with_no_round_trip_to_restore_it(world, route_cache):
    delivery_receive(received=received(message_id="<warms-the-route-cache@x.test>"))
    Delivery.objects.exists()  # the connection's search path is set
    schema_before = connection.schema_name
    message = received(message_id="<path@x.test>")
    with CaptureQueriesContext(connection) as queries:
        outcome = delivery_receive(received=message)
        assert Delivery.objects.filter(pk=outcome.delivery.pk).exists()
    assert connection.schema_name == schema_before
    assert not [q["sql"] for q in queries.captured_queries if "search_path" in q["sql"]]
    with schema_context(world.org.schema_name):
        email = Email.objects.get(pk=outcome.email_id)
        # The raw message went to the organization's folder (TenantFileSystemStorage).
        assert f"/{world.org.schema_name}/" in email.raw.path
        with email.raw.open("rb") as stored:
            assert stored.read() == message.raw


def test_a_duplicate_leaves_no_second_task_and_is_recorded(world, broker_tasks):
    first = delivery_receive(received=received(message_id="<twice@x.test>"))
    second = delivery_receive(received=received(message_id="<twice@x.test>"))
    assert second.verdict == Verdict.DUPLICATE
    assert broker_tasks() == [(PROCESS_TASK, (world.org.schema_name, first.email_id))]
    assert Delivery.objects.filter(message_id="<twice@x.test>").count() == 2
