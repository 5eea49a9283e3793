"""Usage ledger services (public schema): record, roll up per day, purge old raw rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from organizations.models import Organization
from usage.models import DailyUsage, UsageRecord

RETENTION_DAYS = 90


def usage_record(
    *,
    organization: Organization,
    email_code: UUID | None,
    provider: str,
    model: str = "",
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_read_tokens: int = 0,
    cost_usd: Decimal = Decimal("0"),
    price_version: str = "",
    request_id: str = "",
    batch: bool = False,
) -> UsageRecord:
    """One ledger row per AI call; the rules provider records a zero-cost row so email counts are right.

    Takes plain values (not extraction.types.Usage) because usage sits below events in the
    import flow; callers pass `**dataclasses.asdict(usage)`.
    """
    return usage_records(
        organization=organization,
        email_code=email_code,
        calls=[
            {
                "provider": provider,
                "model": model,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_write_tokens": cache_write_tokens,
                "cache_read_tokens": cache_read_tokens,
                "cost_usd": cost_usd,
                "price_version": price_version,
                "request_id": request_id,
                "batch": batch,
            }
        ],
    )[0]


def usage_records(
    *, organization: Organization, email_code: UUID | None, calls: Sequence[Mapping[str, Any]]
) -> list[UsageRecord]:
    """The ledger rows of an email's AI calls (each the keywords of `usage_record` after the
    email's), in one INSERT. The worker records usage in autocommit, whatever happens next: one
    row (the usual case) is one `save()`, where `bulk_create()` would add BEGIN and COMMIT around
    its INSERT. config.sql's one statement was no faster here (bench/sql_paths.py)."""
    rows = [UsageRecord(organization=organization, email_code=email_code, **call) for call in calls]
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    else:
        UsageRecord.objects.bulk_create(rows)
    return rows


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def usage_rollup(*, day: date) -> int:
    """(Re)compute every organization's DailyUsage rows for one UTC day from the raw ledger.

    Upserts, so running it again (e.g. for today, later in the day) only refreshes the
    numbers. A day whose raw rows are already purged yields nothing and its rollups stay.
    """
    start, end = _day_bounds(day)
    groups = (
        UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("organization_id", "provider", "model")
        .annotate(
            calls=Count("id"),
            emails=Count("email_code", distinct=True),
            input=Coalesce(Sum("input_tokens"), 0),
            output=Coalesce(Sum("output_tokens"), 0),
            cache_write=Coalesce(Sum("cache_write_tokens"), 0),
            cache_read=Coalesce(Sum("cache_read_tokens"), 0),
            cost=Coalesce(Sum("cost_usd"), Decimal(0)),
        )
        .order_by()
    )
    rows = [
        DailyUsage(
            organization_id=group["organization_id"],
            day=day,
            provider=group["provider"],
            model=group["model"],
            calls=group["calls"],
            emails=group["emails"],
            input_tokens=group["input"],
            output_tokens=group["output"],
            cache_write_tokens=group["cache_write"],
            cache_read_tokens=group["cache_read"],
            cost_usd=group["cost"],
        )
        for group in groups
    ]
    with transaction.atomic():
        DailyUsage.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["organization", "day", "provider", "model"],
            update_fields=[
                "calls",
                "emails",
                "input_tokens",
                "output_tokens",
                "cache_write_tokens",
                "cache_read_tokens",
                "cost_usd",
            ],
        )
    return len(rows)


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    deleted: int
    rolled_up_days: int


def usage_purge(*, days: int = RETENTION_DAYS, dry_run: bool = False, now: datetime | None = None) -> PurgeResult:
    """Delete raw ledger rows older than `days` days, rolling their days up first so no
    totals are lost. A dry run only counts."""
    if days < 1:
        raise ValueError("Keep at least one day of raw usage rows.")
    now = now or timezone.now()
    cutoff = datetime.combine(now.date() - timedelta(days=days), time.min, tzinfo=UTC)
    old = UsageRecord.objects.filter(created_at__lt=cutoff)
    if dry_run:
        return PurgeResult(cutoff=cutoff, deleted=old.count(), rolled_up_days=0)
    old_days = list(
        old.annotate(day=TruncDate("created_at", tzinfo=UTC)).values_list("day", flat=True).distinct().order_by("day")
    )
    with transaction.atomic():
        for day in old_days:
            usage_rollup(day=day)
        deleted, _ = old.delete()
    return PurgeResult(cutoff=cutoff, deleted=deleted, rolled_up_days=len(old_days))
