"""The delivery log: one row per inbound request, public schema, metadata only (no body)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from events.models import HoldCause


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


class RefusalCause(models.TextChoices):
    """Why a message was refused, where a person can act on it."""

    # The organization's sender policy does not accept the From address: the message is kept
    # for INBOUND_REFUSED_KEEP_DAYS, so an admin can allow the sender and bring it in.
    SENDER_POLICY = "sender_policy", "Sender not allowed"


# A Delivery's cause: why it was refused (RefusalCause) or held (events.models.HoldCause).
DELIVERY_CAUSES = [*RefusalCause.choices, *((value, label) for value, label in HoldCause.choices if value)]


def kept_message_path(instance: Delivery, filename: str) -> str:
    return f"refused/{filename}"


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
    # The provider's own words for each method (RFC 8601: pass, fail, softfail, none, …), "" when
    # it said nothing: the delivery log shows them beside the verdict they add up to.
    spf = models.CharField(max_length=12, blank=True)
    dkim = models.CharField(max_length=12, blank=True)
    dmarc = models.CharField(max_length=12, blank=True)
    cause = models.CharField(max_length=30, choices=DELIVERY_CAUSES, blank=True)
    # A refused message kept whole (RefusalCause.SENDER_POLICY) in the organization's storage, until
    # it is brought in or purged (inbound.refused).
    kept = models.FileField(upload_to=kept_message_path, max_length=300, blank=True)
    # Set once, by the admin who brought the kept message in (email_code then names the Email).
    brought_in_at = models.DateTimeField(null=True, blank=True)
    brought_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]
