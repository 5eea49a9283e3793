from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import stripe
from djstripe.models import Customer, Subscription

from billing.models import MeterReport, Plan
from billing.services import BillingError, meter_report, plan_assign, plans_ensure, subscription_apply
from organizations.models import BillingStatus, Organization
from tests.billing.conftest import PRICE_PROFESSIONAL, FakeStripe, current_shape
from tests.billing.factories import ledger, subscription

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


@pytest.fixture
def customer(org: Organization, fake_stripe: FakeStripe) -> Customer:
    customer, _ = Customer.get_or_create(subscriber=org, livemode=False)
    return customer


def meter_values(fake: FakeStripe) -> list[tuple[str, str]]:
    return [(body["identifier"][0], body["payload[value]"][0]) for body in fake.posts("/v1/billing/meter_events")]


def test_it_reports_overage_as_per_day_deltas_once(
    org: Organization, customer: Customer, fake_stripe: FakeStripe
) -> None:
    org.overage_enabled = True
    ledger(org, emails=3, cost_each=Decimal("5"), at=datetime(2026, 3, 5, 9, tzinfo=UTC))  # $15, under $20
    ledger(org, emails=2, cost_each=Decimal("5"), at=datetime(2026, 3, 6, 9, tzinfo=UTC))  # $25: $5 over

    meter_report(organization=org, now=NOW)
    meter_report(organization=org, now=NOW)

    prefix = f"projectr-overage-{org.pk}-20260301-"
    assert meter_values(fake_stripe) == [(f"{prefix}20260306-500", "500")]
    (body,) = fake_stripe.posts("/v1/billing/meter_events")
    assert body["payload[stripe_customer_id]"] == [customer.id]
    assert body["event_name"] == ["projectr_ai_overage_cents"]
    assert body["timestamp"] == [str(int(datetime(2026, 3, 6, 12, tzinfo=UTC).timestamp()))]


def test_it_sends_only_the_increment_when_a_day_grows(
    org: Organization, customer: Customer, fake_stripe: FakeStripe
) -> None:
    org.overage_enabled = True
    ledger(org, emails=5, cost_each=Decimal("5"), at=datetime(2026, 3, 6, 9, tzinfo=UTC))
    meter_report(organization=org, now=NOW)

    ledger(org, emails=1, cost_each=Decimal("1.239"), at=datetime(2026, 3, 6, 10, tzinfo=UTC))
    ledger(org, emails=1, cost_each=Decimal("2"), at=datetime(2026, 3, 7, 10, tzinfo=UTC))
    meter_report(organization=org, now=NOW)

    prefix = f"projectr-overage-{org.pk}-20260301-"
    assert meter_values(fake_stripe) == [
        (f"{prefix}20260306-500", "500"),
        (f"{prefix}20260306-623", "123"),  # cents are rounded down, never up
        (f"{prefix}20260307-200", "200"),
    ]
    assert sum(MeterReport.objects.filter(organization=org).values_list("reported_cents", flat=True)) == 823


def test_it_reports_nothing_without_the_opt_in(org: Organization, customer: Customer, fake_stripe: FakeStripe) -> None:
    ledger(org, emails=10, cost_each=Decimal("5"), at=datetime(2026, 3, 6, tzinfo=UTC))

    assert meter_report(organization=org, now=NOW) == []
    assert fake_stripe.posts("/v1/billing/meter_events") == []


def test_it_reports_nothing_without_a_stripe_customer(
    org: Organization, fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    org.overage_enabled = True
    ledger(org, emails=10, cost_each=Decimal("5"), at=datetime(2026, 3, 6, tzinfo=UTC))

    with caplog.at_level(logging.INFO, logger="billing.services"):
        assert meter_report(organization=org, now=NOW) == []

    assert f"Overage for {org.slug} not reported: no Stripe customer" in caplog.messages


def test_it_reports_nothing_without_stripe_keys(org: Organization) -> None:
    org.overage_enabled = True
    ledger(org, emails=10, cost_each=Decimal("5"), at=datetime(2026, 3, 6, tzinfo=UTC))

    assert meter_report(organization=org, now=NOW) == []


def test_a_stale_cancellation_does_not_override_a_newer_subscription(
    org: Organization, customer: Customer, fake_stripe: FakeStripe
) -> None:
    newer = subscription(org, sub_id="sub_new", customer=customer.id, price=PRICE_PROFESSIONAL)
    fake_stripe.add(newer)
    Subscription.sync_from_stripe_data(stripe.convert_to_stripe_object(current_shape(newer)))
    subscription_apply(organization=org, subscription=newer)

    changed = subscription_apply(
        organization=org, subscription=subscription(org, sub_id="sub_old", customer=customer.id, status="canceled")
    )

    assert not changed
    org.refresh_from_db()
    assert (org.plan, org.billing_status) == ("professional", BillingStatus.ACTIVE)


def test_an_unknown_price_keeps_the_plan(org: Organization, stripe_keys: None) -> None:
    subscription_apply(organization=org, subscription=subscription(org, price="price_someone_else"))

    org.refresh_from_db()
    assert (org.plan, org.billing_status) == ("starter", BillingStatus.ACTIVE)


def test_a_trial_records_its_end(org: Organization, stripe_keys: None) -> None:
    sub = subscription(org, status="trialing")
    sub["trial_end"] = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())

    subscription_apply(organization=org, subscription=sub)

    org.refresh_from_db()
    assert org.billing_status == BillingStatus.TRIALING
    assert org.trial_ends_at == datetime(2026, 12, 1, tzinfo=UTC)


def test_an_unknown_status_is_ignored(org: Organization, stripe_keys: None) -> None:
    assert not subscription_apply(organization=org, subscription=subscription(org, status="mystery"))


def test_applying_the_same_state_twice_changes_nothing_the_second_time(org: Organization, stripe_keys: None) -> None:
    assert subscription_apply(organization=org, subscription=subscription(org))
    assert not subscription_apply(organization=org, subscription=subscription(org))


def test_staff_assign_plans_without_stripe(org: Organization) -> None:
    plan_assign(organization=org, plan_code="enterprise")

    org.refresh_from_db()
    assert org.plan == "enterprise"
    with pytest.raises(BillingError):
        plan_assign(organization=org, plan_code="platinum")


def test_plans_ensure_restores_the_standard_plans(db: Any) -> None:
    Plan.objects.filter(code="starter").update(email_limit=1)

    plans_ensure()

    assert Plan.objects.get(code="starter").email_limit == 500
    assert list(Plan.objects.values_list("code", flat=True)) == ["starter", "professional", "enterprise"]


@pytest.mark.parametrize(
    ("stripe_status", "status"),
    [
        ("trialing", BillingStatus.TRIALING),
        ("active", BillingStatus.ACTIVE),
        ("past_due", BillingStatus.PAST_DUE),
        ("unpaid", BillingStatus.UNPAID),
        ("paused", BillingStatus.UNPAID),
        ("canceled", BillingStatus.CANCELED),
        ("incomplete_expired", BillingStatus.CANCELED),
        ("incomplete", BillingStatus.NONE),
    ],
)
def test_every_stripe_status_maps_to_a_billing_status(
    org: Organization, stripe_keys: None, stripe_status: str, status: str
) -> None:
    # Start from a different status, so the assertion below can only pass through the mapping.
    start = BillingStatus.NONE if status == BillingStatus.ACTIVE else BillingStatus.ACTIVE
    Organization.objects.filter(pk=org.pk).update(billing_status=start)
    org.refresh_from_db()

    subscription_apply(organization=org, subscription=subscription(org, status=stripe_status))

    org.refresh_from_db()
    assert org.billing_status == status
