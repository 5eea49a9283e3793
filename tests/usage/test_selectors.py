from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from organizations.models import Organization
from tests.billing.factories import ledger
from usage.models import UsageRecord
from usage.selectors import usage_by_model, usage_daily, usage_period, usage_totals


def test_without_a_subscription_the_period_is_the_calendar_month(org: Organization) -> None:
    period = usage_period(org, now=datetime(2026, 2, 14, 8, tzinfo=UTC))

    assert (period.start, period.end) == (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


def test_with_a_subscription_the_period_ends_at_its_period_end(org: Organization) -> None:
    org.current_period_end = datetime(2026, 3, 10, 15, tzinfo=UTC)

    period = usage_period(org, now=datetime(2026, 2, 20, tzinfo=UTC))

    assert (period.start, period.end) == (datetime(2026, 2, 10, 15, tzinfo=UTC), datetime(2026, 3, 10, 15, tzinfo=UTC))


def test_the_period_keeps_rolling_when_a_renewal_webhook_is_late(org: Organization) -> None:
    org.current_period_end = datetime(2026, 1, 31, tzinfo=UTC)

    period = usage_period(org, now=datetime(2026, 3, 15, tzinfo=UTC))

    # Month ends stay month ends: Feb 28 → Mar 31, not Mar 28.
    assert (period.start, period.end) == (datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))


def test_the_period_starts_exactly_at_the_previous_renewal(org: Organization) -> None:
    org.current_period_end = datetime(2026, 3, 10, tzinfo=UTC)

    period = usage_period(org, now=datetime(2026, 3, 10, tzinfo=UTC))

    assert period.start == datetime(2026, 3, 10, tzinfo=UTC)


def test_totals_count_distinct_emails_and_sum_cost(org: Organization, other_org: Organization) -> None:
    code = uuid.uuid4()
    for cost in ("0.10", "0.25"):
        UsageRecord.objects.create(organization=org, email_code=code, provider="anthropic", cost_usd=Decimal(cost))
    ledger(org, emails=2)
    ledger(other_org, emails=7, cost_each=Decimal("1"))

    totals = usage_totals(org, start=datetime(2000, 1, 1, tzinfo=UTC), end=datetime(2100, 1, 1, tzinfo=UTC))

    assert (totals.emails, totals.calls, totals.cost_usd) == (3, 4, Decimal("0.35"))


def test_daily_fills_missing_days_with_zeros(org: Organization) -> None:
    ledger(org, emails=2, cost_each=Decimal("0.5"), at=datetime(2026, 3, 3, 23, 59, tzinfo=UTC))

    days = usage_daily(org, days=3, today=date(2026, 3, 4))

    assert [(d.day.day, d.emails, d.cost_usd) for d in days] == [(2, 0, 0), (3, 2, Decimal("1.0")), (4, 0, 0)]


def test_by_model_reports_tokens_and_cache_hit_share(org: Organization) -> None:
    UsageRecord.objects.create(
        organization=org,
        email_code=uuid.uuid4(),
        provider="anthropic",
        model="claude-haiku-5-5",
        input_tokens=100,
        cache_write_tokens=100,
        cache_read_tokens=200,
        output_tokens=50,
        cost_usd=Decimal("0.01"),
    )
    ledger(org, emails=1, provider="rules")

    rows = usage_by_model(org, start=datetime(2000, 1, 1, tzinfo=UTC), end=datetime(2100, 1, 1, tzinfo=UTC))

    assert [(r.model, r.calls, r.cache_hit_share) for r in rows] == [("claude-haiku-5-5", 1, 0.5), ("", 1, None)]


def test_a_period_names_its_last_day(org: Organization) -> None:
    period = usage_period(org, now=datetime(2026, 2, 14, tzinfo=UTC))

    assert period.last_day == date(2026, 2, 28)
