"""Scheduled billing jobs. Billing data lives in the public schema: no tenant switching."""

from __future__ import annotations

import logging

from billing.services import meter_report
from billing.stripe_api import stripe_configured
from organizations.models import Organization

logger = logging.getLogger(__name__)


def meter_report_all() -> int:
    """Report overage for every opted-in organization; one failing organization does not stop the rest."""
    if not stripe_configured():
        return 0
    sent = 0
    for organization in Organization.objects.filter(overage_enabled=True, is_active=True, is_template=False):
        try:
            sent += len(meter_report(organization=organization))
        except Exception:
            # Logged and retried on the next run: identifiers make the retry safe.
            logger.exception("Overage report for %s failed", organization.slug)
    return sent
