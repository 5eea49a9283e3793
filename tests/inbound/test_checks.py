from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events.ingest import message_parse
from inbound.checks import ignore_reason, loop_limit_reached, loop_limit_reached_and_email_id, sender_allowed
from inbound.models import Delivery, Verdict
from organizations.models import AllowedSender, Organization, SenderPolicy
from tests.factories import EmailFactory
from tests.inbound.conftest import make_message


def parsed(**kwargs):
    return message_parse(message_from_bytes(make_message(**kwargs), _class=EmailMessage, policy=default))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Auto-submitted"),
        ({"Precedence": "bulk"}, "Bulk or list"),
        ({"X-Autoreply": "yes"}, "Auto-reply"),
        ({"Return-Path": "<>"}, "null return path"),
    ],
)
def test_it_recognises_machine_mail(headers, expected):
    assert expected in ignore_reason(parsed(headers=headers), envelope_sender="pm@client.test")


def test_it_recognises_a_bounce_by_its_null_envelope_sender():
    assert "null return path" in ignore_reason(parsed(), envelope_sender="")


def test_it_recognises_our_own_outgoing_mail(settings):
    settings.OUTBOUND_MESSAGE_ID_DOMAIN = "mail.projectr.test"
    assert "own" in ignore_reason(parsed(message_id="<digest-1@mail.projectr.test>"), envelope_sender="x@y.test")


def test_it_passes_mail_from_a_person():
    assert ignore_reason(parsed(headers={"Auto-Submitted": "no"}), envelope_sender="pm@client.test") == ""
    assert ignore_reason(parsed(), envelope_sender=None) == ""


def test_members_policy_allows_members_only(world):
    assert sender_allowed(world.org, "Member@TestOrg.test")
    assert not sender_allowed(world.org, "outsider@otherorg.test")
    AllowedSender.objects.create(organization=world.org, pattern="@client.test")
    assert not sender_allowed(world.org, "pm@client.test")


def test_allowlist_policy_adds_addresses_and_domains(world):
    Organization.objects.filter(pk=world.org.pk).update(sender_policy=SenderPolicy.ALLOWLIST)
    world.org.refresh_from_db()
    AllowedSender.objects.create(organization=world.org, pattern="@Client.test")
    AllowedSender.objects.create(organization=world.org, pattern="boss@partner.test")
    assert sender_allowed(world.org, "member@testorg.test")
    assert sender_allowed(world.org, "pm@client.test")
    assert sender_allowed(world.org, "BOSS@partner.test")
    assert not sender_allowed(world.org, "intern@partner.test")
    assert not sender_allowed(world.org, "pm@sub.client.test")


def test_allowlist_of_another_organization_does_not_count(world, other_org):
    Organization.objects.filter(pk=world.org.pk).update(sender_policy=SenderPolicy.ALLOWLIST)
    world.org.refresh_from_db()
    AllowedSender.objects.create(organization=other_org, pattern="@client.test")
    assert not sender_allowed(world.org, "pm@client.test")


def test_anyone_policy_allows_strangers(world):
    Organization.objects.filter(pk=world.org.pk).update(sender_policy=SenderPolicy.ANYONE)
    world.org.refresh_from_db()
    assert sender_allowed(world.org, "stranger@anywhere.test")


def test_the_loop_limit_counts_only_live_accepted_or_held_mail_of_that_sender_in_the_window(world, other_org, settings):
    settings.INBOUND_LOOP_LIMIT = 2
    settings.INBOUND_LOOP_WINDOW_SECONDS = 300
    sender = "loop@client.test"

    def delivery(**fields):
        values = {"provider": "postmark", "organization": world.org, "sender": sender, "verdict": Verdict.ACCEPTED}
        return Delivery.objects.create(**(values | fields))

    delivery()
    # None of these count: another sender, another organization, a refused or duplicate
    # delivery, a backfill, or a message from before the window.
    delivery(sender="someone@client.test")
    delivery(organization=other_org)
    delivery(verdict=Verdict.REJECTED)
    delivery(verdict=Verdict.DUPLICATE)
    delivery(provider="mbox")
    old = delivery()
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(seconds=301))
    assert not loop_limit_reached(world.org, sender)
    delivery(verdict=Verdict.HELD)
    assert loop_limit_reached(world.org, sender)


def test_the_webhook_s_loop_check_also_takes_a_new_email_id_from_the_organization_s_sequence(world, settings):
    settings.INBOUND_LOOP_LIMIT = 1
    sender = "client@client.test"
    with schema_context(world.org.schema_name):
        reached, first = loop_limit_reached_and_email_id(world.org, sender)
        assert not reached
        Delivery.objects.create(provider="postmark", organization=world.org, sender=sender, verdict=Verdict.ACCEPTED)
        reached, second = loop_limit_reached_and_email_id(world.org, sender)
        assert reached
        assert second > first
        assert EmailFactory().pk > second
