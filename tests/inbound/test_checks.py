from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest

from events.ingest import message_parse
from inbound.checks import ignore_reason, sender_allowed
from organizations.models import AllowedSender, Organization, SenderPolicy
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
