"""The AI usage ledger (public schema): one row per extraction call, daily rollups, and the
Message Batches of backfills in flight.

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


class AIBatchStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"  # created at the API, not polled yet
    PROCESSING = "processing", "Processing"  # the API is working on it (or its results are being applied)
    ENDED = "ended", "Ended"  # every result applied or sent back to the per-email queue


class AIBatch(models.Model):
    """One Message Batch of a backfill (events.ai_batches): which emails of which organization it
    carries, and how far it got. Public schema, so the poll schedule finds every open batch in one
    query; the emails are rows of the organization's own schema."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    batch_id = models.CharField(max_length=100, unique=True)  # the API's msgbatch_…
    provider = models.CharField(max_length=30, default="anthropic")
    model = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=AIBatchStatus.choices, default=AIBatchStatus.SUBMITTED)
    email_ids = models.JSONField(default=list)  # Email ids in the organization's schema, in received order
    requests = models.PositiveIntegerField(default=0)
    # The API's request_counts (all but `processing` stay 0 until the whole batch has ended).
    processing = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    errored = models.PositiveIntegerField(default=0)
    canceled = models.PositiveIntegerField(default=0)
    expired = models.PositiveIntegerField(default=0)
    # Ours once it has ended: results applied, emails sent back to the per-email queue, and those
    # skipped because they were no longer waiting for this batch.
    applied = models.PositiveIntegerField(default=0)
    fallback = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="ai_batch_org_created")]

    def __str__(self) -> str:
        return f"{self.batch_id} ({self.status})"

    @property
    def done(self) -> int:
        """Requests the API has finished with."""
        return self.requests - self.processing if self.status != AIBatchStatus.SUBMITTED else 0

    @property
    def progress(self) -> str:
        """What the inbox says: submitted / processing N of M / ended."""
        if self.status == AIBatchStatus.SUBMITTED:
            return f"submitted, {self.requests} emails"
        if self.status == AIBatchStatus.PROCESSING:
            return f"processing {self.done} of {self.requests}"
        return f"ended: {self.applied} applied, {self.fallback} processed one by one"
