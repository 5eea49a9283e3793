"""Scheduled usage jobs (public schema; the ledger has no tenant data)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from usage.services import RETENTION_DAYS, usage_purge, usage_rollup


def usage_rollup_recent() -> int:
    """Roll up yesterday (now complete) and today (so far)."""
    today = timezone.now().date()
    return usage_rollup(day=today - timedelta(days=1)) + usage_rollup(day=today)


def usage_purge_old() -> int:
    return usage_purge(days=RETENTION_DAYS).deleted
