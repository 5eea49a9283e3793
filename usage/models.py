"""The AI usage ledger (public schema): one row per extraction call, and daily rollups.

Limits count from here, never from tenant tables, so billing needs no schema switching.
"""

from __future__ import annotations

from django.db import models


class UsageRecord(models.Model):
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    email_code = models.UUIDField(null=True, blank=True)  # the Email in the organization's schema
    provider = models.CharField(max_length=30)
    model = models.CharField(max_length=100, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    price_version = models.CharField(max_length=40, blank=True)
    batch = models.BooleanField(default=False)
    request_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="usage_org_created")]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} ${self.cost_usd}"


class DailyUsage(models.Model):
    """Per organization, day and model; kept after the detailed rows are purged."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    provider = models.CharField(max_length=30)
    model = models.CharField(max_length=100, blank=True)
    calls = models.PositiveIntegerField(default=0)
    emails = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    cache_write_tokens = models.PositiveBigIntegerField(default=0)
    cache_read_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day", "provider", "model"], name="daily_usage_unique")
        ]
        indexes = [models.Index(fields=["organization", "day"], name="daily_usage_org_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.provider}/{self.model} ${self.cost_usd}"
