"""The delivery log: one row per inbound request, public schema, metadata only (no body)."""

from __future__ import annotations

from django.db import models


class Verdict(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    DUPLICATE = "duplicate", "Duplicate"
    REJECTED = "rejected", "Rejected"
    IGNORED = "ignored", "Ignored"
    HELD = "held", "Held"
    INVALID = "invalid", "Invalid"


class Authentication(models.TextChoices):
    """The sender-authentication verdict on the From domain (inbound.authentication)."""

    PASS = "pass", "Authenticated"
    FAIL = "fail", "Not authenticated"
    UNKNOWN = "unknown", "No verdict"


class Delivery(models.Model):
    provider = models.CharField(max_length=30)
    # Not indexed: nothing looks a delivery up by its provider event (the Email's unique
    # constraint dedupes), and every index costs each webhook an update.
    event_id = models.CharField(max_length=255, blank=True)
    message_id = models.CharField(max_length=998, blank=True)
    recipient = models.CharField(max_length=998, blank=True)
    sender = models.CharField(max_length=998, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    # Indexed by the two indexes below, which both start with it.
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        db_index=False,
    )
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    reason = models.CharField(max_length=500, blank=True)
    # Blank when the message was refused before its sender was looked at (bad payload,
    # unknown recipient, too large).
    authentication = models.CharField(max_length=10, choices=Authentication.choices, blank=True)
    authentication_detail = models.CharField(max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    # Id of the Email row in the organization's schema when one was stored.
    email_code = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["organization", "verdict", "-created_at"], name="delivery_org_verdict"),
            models.Index(fields=["organization", "sender", "created_at"], name="delivery_org_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.verdict} {self.message_id}"
