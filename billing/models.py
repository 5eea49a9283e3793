"""Plans as data (public schema). Stripe objects themselves live in dj-stripe's tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models


class Plan(models.Model):
    code = models.CharField(max_length=20, primary_key=True)  # = Organization.plan
    name = models.CharField(max_length=50)
    monthly_price_usd = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # null = unlimited
    email_limit = models.PositiveIntegerField(null=True, blank=True)
    project_limit = models.PositiveIntegerField(null=True, blank=True)
    ai_budget_usd = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # Setting name holding the Stripe price id (prices differ between test and live mode).
    stripe_price_setting = models.CharField(max_length=50, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_custom(self) -> bool:
        return self.monthly_price_usd is None


DEFAULT_PLANS: list[dict[str, Any]] = [
    {
        "code": "starter",
        "name": "Starter",
        "monthly_price_usd": Decimal("49"),
        "email_limit": 500,
        "project_limit": 2,
        "ai_budget_usd": Decimal("20"),
        "stripe_price_setting": "STRIPE_PRICE_STARTER",
        "sort_order": 1,
    },
    {
        "code": "professional",
        "name": "Professional",
        "monthly_price_usd": Decimal("149"),
        "email_limit": 2000,
        "project_limit": None,
        "ai_budget_usd": Decimal("100"),
        "stripe_price_setting": "STRIPE_PRICE_PROFESSIONAL",
        "sort_order": 2,
    },
    {
        "code": "enterprise",
        "name": "Enterprise",
        "monthly_price_usd": None,
        "email_limit": None,
        "project_limit": None,
        "ai_budget_usd": None,
        "stripe_price_setting": "",
        "sort_order": 3,
    },
]


class LimitNotice(models.Model):
    """Records that admins were told about a limit, so each notice goes out once per period."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    limit = models.CharField(max_length=20)  # emails | ai_budget
    threshold = models.PositiveSmallIntegerField()  # 80 | 100
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period_start", "limit", "threshold"], name="limit_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.limit} {self.threshold}% {self.period_start}"


class MeterReport(models.Model):
    """Overage already reported to the Stripe Billing Meter, per organization and day."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reported_cents = models.PositiveIntegerField(default=0)
    identifier = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.identifier
