"""Refused mail kept for a while: a message the sender policy refused is stored whole beside its
Delivery row for INBOUND_REFUSED_KEEP_DAYS, so that an admin who allows its sender can bring it in
(inbound.review), and purged after that by a schedule.

Nothing of it is parsed or shown: the bytes wait as they arrived, in the organization's storage.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import uuid4

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from inbound.models import Delivery, RefusalCause, Verdict
from organizations.models import Organization
from organizations.schemas import storage_schema

logger = logging.getLogger(__name__)


def keep_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.INBOUND_REFUSED_KEEP_DAYS)


def kept_until(delivery: Delivery) -> datetime:
    return delivery.created_at + timedelta(days=settings.INBOUND_REFUSED_KEEP_DAYS)


def refused_message_keep(*, delivery: Delivery, organization: Organization, raw: bytes) -> bool:
    """Store the refused message's bytes on its (unsaved) Delivery row, unless the organization
    already keeps INBOUND_REFUSED_KEEP_MAX of them: one bounded count (index delivery_org_verdict)
    and one file write, only for mail the sender policy refused."""
    if settings.INBOUND_REFUSED_KEEP_DAYS <= 0 or settings.INBOUND_REFUSED_KEEP_MAX <= 0:
        return False
    kept = (
        Delivery.objects.filter(
            organization=organization,
            verdict=Verdict.REJECTED,
            created_at__gte=keep_cutoff(),
            cause=RefusalCause.SENDER_POLICY,
        )
        .exclude(kept="")
        .values("pk")[: settings.INBOUND_REFUSED_KEEP_MAX]
    )
    if kept.count() >= settings.INBOUND_REFUSED_KEEP_MAX:
        logger.info(
            "Refused mail of %s not kept: %s kept already", organization.schema_name, settings.INBOUND_REFUSED_KEEP_MAX
        )
        return False
    with storage_schema(organization.schema_name):
        delivery.kept.save(f"{timezone.now():%Y-%m}-{uuid4().hex}.eml", ContentFile(raw), save=False)
    return True


def kept_message_read(delivery: Delivery, organization: Organization) -> bytes:
    with storage_schema(organization.schema_name), delivery.kept.open("rb") as file:
        return bytes(file.read())


def kept_message_drop(delivery: Delivery, organization: Organization | None) -> None:
    """Delete the kept bytes and forget them on the row."""
    if delivery.kept:
        try:
            if organization is not None:
                with storage_schema(organization.schema_name):
                    delivery.kept.delete(save=False)
        except OSError:  # already gone: the row forgets it all the same
            logger.warning("Kept message %s could not be deleted", delivery.pk, exc_info=True)
    Delivery.objects.filter(pk=delivery.pk).update(kept="")
    delivery.kept.name = ""


def kept_messages_purge(*, now: datetime | None = None) -> int:
    """Schedule: drop every kept refused message older than INBOUND_REFUSED_KEEP_DAYS (the row
    stays, as the log of what arrived). Returns how many were dropped."""
    expired = list(
        Delivery.objects.filter(created_at__lt=keep_cutoff(now))
        .exclude(kept="")
        .select_related("organization")
        .only("pk", "kept", "organization__schema_name")
    )
    for delivery in expired:
        kept_message_drop(delivery, delivery.organization)
    if expired:
        logger.info("Purged %s kept refused messages", len(expired))
    return len(expired)
