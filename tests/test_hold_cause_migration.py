"""The data migrations that gave held mail and deliveries their typed cause from the reasons' words."""

from __future__ import annotations

import importlib

from django.apps import apps

from events.models import Email, EmailState, HoldCause
from inbound.models import Delivery, RefusalCause, Verdict
from tests.factories import EmailFactory

EVENTS_0010 = importlib.import_module("events.migrations.0010_email_hold_cause")
INBOUND_0004 = importlib.import_module("inbound.migrations.0004_delivery_cause_verdicts_kept")


def test_held_emails_get_the_cause_their_reason_named(org):
    reasons = {
        "Sender not authenticated: From says a@b.test, but DMARC fail": HoldCause.SENDER_NOT_AUTHENTICATED,
        "Mail loop: more than 20 messages": HoldCause.MAIL_LOOP,
        "Plan limit: The plan's limit of 500 emails": HoldCause.PLAN_LIMIT,
        "Plan limit: The AI budget of $5 this period is used up": HoldCause.AI_BUDGET,
        "Project limit: 2 projects on Starter": HoldCause.PROJECT_LIMIT,
    }
    held = {EmailFactory(state=EmailState.HELD, state_reason=reason).pk: cause for reason, cause in reasons.items()}
    processed = EmailFactory(state=EmailState.PROCESSED, state_reason="Plan limit: old words")

    EVENTS_0010.causes_from_reasons(apps, None)

    assert dict(Email.objects.filter(pk__in=held).values_list("pk", "hold_cause")) == held
    assert Email.objects.get(pk=processed.pk).hold_cause == HoldCause.NONE


def test_deliveries_get_theirs(public):
    refused = Delivery.objects.create(verdict=Verdict.REJECTED, reason=INBOUND_0004.POLICY_REASON)
    loop = Delivery.objects.create(verdict=Verdict.HELD, reason="Mail loop: more than 20 messages")
    other = Delivery.objects.create(verdict=Verdict.REJECTED, reason="Unknown recipient")

    INBOUND_0004.causes_from_reasons(apps, None)

    assert [Delivery.objects.get(pk=d.pk).cause for d in (refused, loop, other)] == [
        RefusalCause.SENDER_POLICY,
        HoldCause.MAIL_LOOP,
        "",
    ]
