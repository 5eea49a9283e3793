"""Billing services: plans as data."""

from __future__ import annotations

from billing.models import DEFAULT_PLANS, Plan


def plans_ensure() -> None:
    """Create or refresh the three standard plans (also run by migration 0002)."""
    for row in DEFAULT_PLANS:
        Plan.objects.update_or_create(code=row["code"], defaults=row)
