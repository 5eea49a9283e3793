"""/api/v1/usage and /api/v1/subscription: only the key's own organization's ledger and plan."""

from __future__ import annotations

import uuid
from decimal import Decimal

from organizations.models import Organization
from tests.factories import ProjectFactory
from usage.models import UsageRecord


def record(organization, cost):
    return UsageRecord.objects.create(
        organization=organization, email_code=uuid.uuid4(), provider="anthropic", cost_usd=Decimal(cost)
    )


def test_usage_counts_this_periods_emails_and_cost_against_the_plan(reader, world, other_org):
    record(world.org, "1.25")
    record(world.org, "0.75")
    record(other_org, "9.00")  # another organization's spend never shows
    ProjectFactory()
    body = reader.get("/api/v1/usage").json()
    assert body["emails"] == {"used": 2, "limit": 500}
    # Decimals travel as strings, at the ledger's precision (micro-dollars).
    assert Decimal(body["ai_cost_usd"]["used"]) == Decimal("2.00")
    assert Decimal(body["ai_cost_usd"]["limit"]) == Decimal("20.00")
    assert body["open_projects"] == {"used": 1, "limit": 2}
    assert body["held_emails"] == 0


def test_the_daily_series_has_one_entry_per_day_with_zeros_filled_in(reader, world, other_org):
    record(world.org, "1.50")
    record(other_org, "9.00")
    days = reader.get("/api/v1/usage/daily", {"days": 7}).json()
    assert len(days) == 7
    assert days[-1]["emails"] == 1 and Decimal(days[-1]["cost_usd"]) == Decimal("1.50")
    assert all(d["emails"] == 0 for d in days[:-1])
    response = reader.get("/api/v1/usage/daily", {"days": 91})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "days"


def test_the_subscription_shows_plan_status_period_and_limits(reader, world):
    Organization.objects.filter(pk=world.org.pk).update(
        plan="professional", billing_status="past_due", custom_email_limit=5000
    )
    body = reader.get("/api/v1/subscription").json()
    assert body["plan"]["code"] == "professional"
    assert body["billing_status"] == "past_due"
    assert body["processing_allowed"] is True and "payment" in body["notice"]
    assert body["limits"] == {"emails": 5000, "projects": None, "ai_budget_usd": "100.00"}
    assert set(body["period"]) == {"start", "end"}


def test_the_subscription_is_read_only(writer, world):
    assert writer.post("/api/v1/subscription", {}, "application/json").status_code == 405
    assert writer.patch("/api/v1/subscription", {}, "application/json").status_code == 405
