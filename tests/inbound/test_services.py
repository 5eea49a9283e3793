from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from django_tenants.utils import schema_context

from events.models import Email, EmailState
from inbound.models import Delivery, Verdict
from inbound.services import Received, delivery_receive
from tests.inbound.conftest import make_message


def received(provider="postmark", event_id="", **kwargs):
    raw = make_message(**kwargs)
    return Received(
        provider=provider,
        message=message_from_bytes(raw, _class=EmailMessage, policy=default),
        raw=raw,
        event_id=event_id,
        envelope_sender="owner@testorg.test",
        envelope_recipient="testorg@in.localhost",
    )


def test_it_holds_live_mail_beyond_the_loop_limit(world, settings):
    settings.INBOUND_LOOP_LIMIT = 3
    outcomes = [delivery_receive(received=received(message_id=f"<loop-{i}@x.test>")) for i in range(5)]
    assert [o.verdict for o in outcomes] == [Verdict.ACCEPTED] * 3 + [Verdict.HELD] * 2
    with schema_context(world.org.schema_name):
        held = Email.objects.get(pk=outcomes[-1].email_id)
    assert held.state == EmailState.HELD
    assert held.state_reason.startswith("Mail loop")


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
