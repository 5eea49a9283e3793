"""Reads of the usage ledger. Every one takes an organization: the ledger lives in the public
schema, so schema isolation does not protect it (docs/architecture.md, "Tenancy")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from organizations.models import Organization
from usage.models import UsageRecord

ZERO = Decimal("0")


@dataclass(frozen=True)
class Period:
    """A billing period [start, end)."""

    start: datetime
    end: datetime

    @property
    def last_day(self) -> date:
        """The last day inside the period (`end` itself is the first moment after it)."""
        return (self.end - timedelta(microseconds=1)).date()

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 86400))

    def elapsed_share(self, now: datetime) -> float:
        total = (self.end - self.start).total_seconds()
        return min(1.0, max(0.0, (now - self.start).total_seconds() / total)) if total > 0 else 1.0


def usage_period(organization: Organization, *, now: datetime | None = None) -> Period:
    """The organization's current billing period.

    With a Stripe subscription, periods are monthly cycles anchored on its period end
    (Organization.current_period_end); the cycle keeps rolling forward from that anchor when
    a renewal webhook is late, so limits still reset on time. Without one: the calendar month (UTC).
    """
    now = now or timezone.now()
    anchor = organization.current_period_end
    if anchor is None:
        start = datetime.combine(now.date().replace(day=1), time.min, tzinfo=UTC)
        return Period(start=start, end=start + relativedelta(months=1))
    # Offsets are always taken from the anchor (not chained) so a 31st keeps landing on month ends.
    months = (now.year - anchor.year) * 12 + (now.month - anchor.month)
    end = anchor + relativedelta(months=months)
    while end <= now:
        months += 1
        end = anchor + relativedelta(months=months)
    while anchor + relativedelta(months=months - 1) > now:
        months -= 1
        end = anchor + relativedelta(months=months)
    return Period(start=anchor + relativedelta(months=months - 1), end=end)


@dataclass(frozen=True)
class Totals:
    emails: int
    calls: int
    cost_usd: Decimal


def usage_totals(organization: Organization, *, start: datetime, end: datetime) -> Totals:
    """Emails (distinct ledger email codes), calls and AI cost in [start, end). One query."""
    row = UsageRecord.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end).aggregate(
        emails=Count("email_code", distinct=True),
        calls=Count("id"),
        cost=Coalesce(Sum("cost_usd"), ZERO),
    )
    return Totals(emails=row["emails"], calls=row["calls"], cost_usd=row["cost"])


@dataclass(frozen=True)
class DayUsage:
    day: date
    emails: int
    cost_usd: Decimal


def usage_daily(organization: Organization, *, days: int, today: date | None = None) -> list[DayUsage]:
    """One entry per day for the last `days` days (today included), zeros filled in. One query.

    Reads the raw ledger, which is kept for 90 days, so charts up to 90 days need no rollups.
    """
    today = today or timezone.now().date()
    first = today - timedelta(days=days - 1)
    rows = (
        UsageRecord.objects.filter(
            organization=organization,
            created_at__gte=datetime.combine(first, time.min, tzinfo=UTC),
            created_at__lt=datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC),
        )
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(emails=Count("email_code", distinct=True), cost=Coalesce(Sum("cost_usd"), ZERO))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day)
        result.append(DayUsage(day=day, emails=row["emails"] if row else 0, cost_usd=row["cost"] if row else ZERO))
    return result


@dataclass(frozen=True)
class ModelUsage:
    provider: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: Decimal

    @property
    def cache_hit_share(self) -> float | None:
        """Share of prompt tokens served from the prompt cache."""
        prompt = self.input_tokens + self.cache_write_tokens + self.cache_read_tokens
        return self.cache_read_tokens / prompt if prompt else None


def usage_by_model(organization: Organization, *, start: datetime, end: datetime) -> list[ModelUsage]:
    rows = (
        UsageRecord.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end)
        .values("provider", "model")
        .annotate(
            calls=Count("id"),
            input=Coalesce(Sum("input_tokens"), 0),
            output=Coalesce(Sum("output_tokens"), 0),
            cache_write=Coalesce(Sum("cache_write_tokens"), 0),
            cache_read=Coalesce(Sum("cache_read_tokens"), 0),
            cost=Coalesce(Sum("cost_usd"), ZERO),
        )
        .order_by(F("cost").desc(), "provider", "model")
    )
    return [
        ModelUsage(
            provider=row["provider"],
            model=row["model"],
            calls=row["calls"],
            input_tokens=row["input"],
            output_tokens=row["output"],
            cache_write_tokens=row["cache_write"],
            cache_read_tokens=row["cache_read"],
            cost_usd=row["cost"],
        )
        for row in rows
    ]
