"""Stripe webhooks through dj-stripe's real endpoint: signed payloads, re-fetch via a fake HTTP client."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from djstripe.models import Event as StripeEvent
from djstripe.models import WebhookEventTrigger

from billing.limits import processing_decision
from billing.webhooks import checkout_completed, invoice_changed, subscription_changed
from organizations.models import BillingStatus, Organization
from tests.billing.conftest import PRICE_PROFESSIONAL, FakeStripe, current_shape, post_event
from tests.billing.factories import PERIOD_END, subscription
from tests.conftest import CORPORA
from usage.models import UsageRecord

STRIPE_CORPUS = sorted((CORPORA / "stripe").glob("*.json"))


def event(kind: str, obj: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "type": kind,
            "api_version": "2026-05-27.dahlia",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": obj},
        }
    )


def invoice_for(sub_id: str, *, customer: str = "cus_test1") -> dict[str, Any]:
    return {
        "id": f"in_{uuid.uuid4().hex[:12]}",
        "object": "invoice",
        "customer": customer,
        "subscription": None,
        "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub_id}},
        "livemode": False,
    }


@pytest.fixture
def stripe_env(fake_stripe: FakeStripe, webhook_url: str, public_client: Any) -> Any:
    class Env:
        fake = fake_stripe
        url = webhook_url
        client = public_client

        def post(self, kind: str, obj: dict[str, Any], event_id: str | None = None) -> Any:
            return post_event(public_client, webhook_url, event(kind, obj, event_id))

    return Env()


@pytest.mark.parametrize("path", STRIPE_CORPUS, ids=lambda p: p.name)
def test_it_accepts_or_cleanly_rejects_every_corpus_event(path: Any, stripe_env: Any, org: Organization) -> None:
    raw = path.read_bytes()
    data = json.loads(raw)
    obj = data.get("data", {}).get("object", {})
    if isinstance(obj, dict) and obj.get("id"):
        stripe_env.fake.add(obj)
    before = Organization.objects.values("plan", "billing_status", "current_period_end").get(pk=org.pk)

    response = post_event(stripe_env.client, stripe_env.url, raw)

    assert response.status_code < 500
    # Corpus events belong to customers we do not know: no organization changes.
    assert Organization.objects.values("plan", "billing_status", "current_period_end").get(pk=org.pk) == before


def test_it_applies_a_new_subscription(stripe_env: Any, org: Organization) -> None:
    sub = stripe_env.fake.add(subscription(org, price=PRICE_PROFESSIONAL))

    response = stripe_env.post("customer.subscription.created", sub)

    assert response.status_code == 200
    assert WebhookEventTrigger.objects.get(id=int(response.content)).processed
    org.refresh_from_db()
    assert (org.plan, org.billing_status) == ("professional", BillingStatus.ACTIVE)
    assert org.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)
    assert org.billing_status_changed_at is not None


def test_it_walks_the_lifecycle_past_due_paid_canceled(stripe_env: Any, org: Organization) -> None:
    sub = stripe_env.fake.add(subscription(org))
    stripe_env.post("customer.subscription.created", sub)

    stripe_env.fake.add(subscription(org, status="past_due"))
    assert stripe_env.post("invoice.payment_failed", invoice_for("sub_test1")).status_code == 200
    org.refresh_from_db()
    assert org.billing_status == BillingStatus.PAST_DUE

    stripe_env.fake.add(subscription(org, status="active"))
    stripe_env.post("invoice.paid", invoice_for("sub_test1"))
    org.refresh_from_db()
    assert org.billing_status == BillingStatus.ACTIVE

    canceled = stripe_env.fake.add(subscription(org, status="canceled"))
    stripe_env.post("customer.subscription.deleted", canceled)
    org.refresh_from_db()
    assert org.billing_status == BillingStatus.CANCELED
    assert org.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)


def test_it_ignores_a_duplicate_event(stripe_env: Any, org: Organization) -> None:
    sub = stripe_env.fake.add(subscription(org, status="past_due"))
    stripe_env.post("customer.subscription.updated", sub, event_id="evt_dup")
    org.refresh_from_db()
    changed_at = org.billing_status_changed_at

    response = stripe_env.post("customer.subscription.updated", sub, event_id="evt_dup")

    assert response.status_code == 200
    assert StripeEvent.objects.filter(id="evt_dup").count() == 1
    org.refresh_from_db()
    assert (org.billing_status, org.billing_status_changed_at) == (BillingStatus.PAST_DUE, changed_at)


def test_it_keeps_the_current_state_when_an_old_event_arrives_late(stripe_env: Any, org: Organization) -> None:
    stripe_env.fake.add(subscription(org, status="canceled"))
    stripe_env.post("customer.subscription.deleted", subscription(org, status="canceled"))

    # The "active" update was sent earlier but is delivered last; Stripe now says canceled.
    stripe_env.post("customer.subscription.updated", subscription(org, status="active"))

    org.refresh_from_db()
    assert org.billing_status == BillingStatus.CANCELED


def test_it_rejects_a_bad_signature_and_changes_nothing(stripe_env: Any, org: Organization) -> None:
    sub = stripe_env.fake.add(subscription(org, price=PRICE_PROFESSIONAL))

    response = post_event(
        stripe_env.client, stripe_env.url, event("customer.subscription.created", sub), secret="whsec_wrong"
    )

    assert response.status_code == 400
    org.refresh_from_db()
    assert (org.plan, org.billing_status) == ("starter", BillingStatus.NONE)
    assert not StripeEvent.objects.exists()


def test_it_acknowledges_events_of_unknown_customers(
    stripe_env: Any, org: Organization, caplog: pytest.LogCaptureFixture
) -> None:
    sub = stripe_env.fake.add(subscription(None, customer="cus_stranger", sub_id="sub_stranger"))

    with caplog.at_level(logging.INFO, logger="billing.webhooks"):
        response = stripe_env.post("customer.subscription.updated", sub)

    assert response.status_code == 200
    assert "Stripe subscription sub_stranger belongs to no organization; ignored" in caplog.messages
    org.refresh_from_db()
    assert org.billing_status == BillingStatus.NONE


def test_it_links_a_completed_checkout_to_its_organization(stripe_env: Any, org: Organization) -> None:
    stripe_env.fake.add(subscription(None, price=PRICE_PROFESSIONAL, sub_id="sub_checkout"))
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(org.pk),
        "customer": "cus_test1",
        "subscription": "sub_checkout",
        "metadata": {},
        "livemode": False,
    }
    stripe_env.fake.add(session)

    assert stripe_env.post("checkout.session.completed", session).status_code == 200

    org.refresh_from_db()
    assert (org.plan, org.billing_status) == ("professional", BillingStatus.ACTIVE)


def test_it_resumes_held_mail_after_an_upgrade_event(stripe_env: Any, org: Organization) -> None:
    UsageRecord.objects.bulk_create(
        UsageRecord(organization=org, email_code=uuid.uuid4(), provider="rules") for _ in range(500)
    )
    assert not processing_decision(org).allowed

    stripe_env.post("customer.subscription.updated", stripe_env.fake.add(subscription(org, price=PRICE_PROFESSIONAL)))

    org.refresh_from_db()
    assert processing_decision(org).allowed


class FakeEvent:
    def __init__(self, kind: str, obj: dict[str, Any]) -> None:
        self.type = kind
        self.data = {"object": obj}


def test_the_subscription_handler_re_reads_the_subscription(fake_stripe: FakeStripe, org: Organization) -> None:
    fake_stripe.add(subscription(org, status="past_due"))

    subscription_changed(sender=None, event=FakeEvent("customer.subscription.updated", subscription(org)))

    org.refresh_from_db()
    assert org.billing_status == BillingStatus.PAST_DUE
    assert any(url.endswith("/v1/subscriptions/sub_test1") for _, url, _ in fake_stripe.requests)


def test_the_invoice_handler_reads_the_old_subscription_field(fake_stripe: FakeStripe, org: Organization) -> None:
    fake_stripe.add(subscription(org, status="active"))

    invoice_changed(
        sender=None, event=FakeEvent("invoice.paid", {"id": "in_1", "object": "invoice", "subscription": "sub_test1"})
    )

    org.refresh_from_db()
    assert org.billing_status == BillingStatus.ACTIVE


def test_the_invoice_handler_skips_invoices_without_a_subscription(fake_stripe: FakeStripe, org: Organization) -> None:
    invoice_changed(sender=None, event=FakeEvent("invoice.paid", {"id": "in_1", "object": "invoice"}))

    assert fake_stripe.requests == []


def test_the_checkout_handler_skips_payment_mode_sessions(fake_stripe: FakeStripe, org: Organization) -> None:
    checkout_completed(
        sender=None,
        event=FakeEvent("checkout.session.completed", {"id": "cs_1", "mode": "payment", "subscription": None}),
    )

    assert fake_stripe.requests == []


def test_a_missing_subscription_is_logged_not_raised(fake_stripe: FakeStripe, org: Organization) -> None:
    subscription_changed(sender=None, event=FakeEvent("customer.subscription.updated", {"id": "sub_gone"}))

    org.refresh_from_db()
    assert org.billing_status == BillingStatus.NONE


def test_the_fake_answers_in_the_current_shape() -> None:
    assert current_shape({"id": "ch_1", "object": "charge", "refunds": {}})["refunds"]["data"] == []


def test_the_debug_secret_header_does_not_bypass_the_signature_in_production(
    stripe_env: Any, org: Organization
) -> None:
    sub = stripe_env.fake.add(subscription(org, price=PRICE_PROFESSIONAL))
    body = event("customer.subscription.created", sub)
    forged = stripe.WebhookSignature.generate_signature_header(body, "whsec_attacker")

    response = stripe_env.client.post(
        stripe_env.url,
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=forged,
        HTTP_X_DJSTRIPE_WEBHOOK_SECRET="whsec_attacker",
    )

    assert response.status_code == 400
    org.refresh_from_db()
    assert org.plan == "starter"
