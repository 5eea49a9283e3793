"""Reads for plans, limits and billing standing. Counts come from the usage ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format

from billing.models import Plan
from billing.stripe_api import stripe_configured
from organizations.models import BillingStatus, Organization
from usage.selectors import Period, usage_period, usage_totals


@dataclass(frozen=True)
class Limits:
    """None = unlimited."""

    emails: int | None
    projects: int | None
    ai_budget_usd: Decimal | None


def limits_for(organization: Organization, plan: Plan | None = None) -> Limits:
    """The plan's limits, with staff-set per-organization overrides (Enterprise deals) on top."""
    plan = plan or Plan.objects.filter(code=organization.plan).first()
    return Limits(
        emails=organization.custom_email_limit
        if organization.custom_email_limit is not None
        else (plan.email_limit if plan else None),
        projects=organization.custom_project_limit
        if organization.custom_project_limit is not None
        else (plan.project_limit if plan else None),
        ai_budget_usd=organization.custom_ai_budget_usd
        if organization.custom_ai_budget_usd is not None
        else (plan.ai_budget_usd if plan else None),
    )


def _share(used: Decimal | int, limit: Decimal | int | None) -> float | None:
    if limit is None:
        return None
    if limit <= 0:
        return 1.0
    return float(Decimal(used) / Decimal(limit))


@dataclass(frozen=True)
class Snapshot:
    """Where an organization stands this billing period."""

    plan: Plan | None
    limits: Limits
    period: Period
    emails: int
    ai_cost_usd: Decimal

    @property
    def email_share(self) -> float | None:
        return _share(self.emails, self.limits.emails)

    @property
    def ai_share(self) -> float | None:
        return _share(self.ai_cost_usd, self.limits.ai_budget_usd)

    @property
    def emails_exhausted(self) -> bool:
        return self.limits.emails is not None and self.emails >= self.limits.emails

    @property
    def ai_exhausted(self) -> bool:
        return self.limits.ai_budget_usd is not None and self.ai_cost_usd >= self.limits.ai_budget_usd


def billing_snapshot(organization: Organization, *, now: datetime | None = None) -> Snapshot:
    """Plan, limits, period and this period's usage. Two queries."""
    plan = Plan.objects.filter(code=organization.plan).first()
    period = usage_period(organization, now=now)
    totals = usage_totals(organization, start=period.start, end=period.end)
    return Snapshot(
        plan=plan,
        limits=limits_for(organization, plan),
        period=period,
        emails=totals.emails,
        ai_cost_usd=totals.cost_usd,
    )


def request_snapshot(request: HttpRequest, organization: Organization) -> Snapshot:
    """billing_snapshot, computed once per request (the page and its banners both need it)."""
    cached = getattr(request, "_billing_snapshot", None)
    if cached is None:
        cached = billing_snapshot(organization)
        request._billing_snapshot = cached  # type: ignore[attr-defined]
    return cast(Snapshot, cached)


@dataclass(frozen=True)
class Standing:
    """Whether the subscription lets mail be processed. `warning` is shown while still allowed."""

    processing_allowed: bool
    reason: str = ""
    warning: str = ""


def _day(value: datetime) -> str:
    return date_format(timezone.localtime(value), "DATE_FORMAT")


def billing_standing(organization: Organization, *, now: datetime | None = None) -> Standing:
    """Past due → grace period, then paused; canceled → paused at period end; an expired trial
    without a subscription → paused, but only when Stripe is configured (otherwise staff
    assign plans and there is nothing to pay)."""
    now = now or timezone.now()
    status = organization.billing_status
    if status == BillingStatus.PAST_DUE:
        grace_end = (organization.billing_status_changed_at or now) + timedelta(days=settings.BILLING_GRACE_DAYS)
        if now < grace_end:
            return Standing(
                True,
                warning=f"The last payment failed. Update the payment method before {_day(grace_end)}, "
                "or processing of new mail pauses.",
            )
        return Standing(False, reason="Payment is past due and the grace period is over; processing is paused.")
    if status == BillingStatus.UNPAID:
        return Standing(False, reason="The subscription is unpaid; processing is paused.")
    if status == BillingStatus.CANCELED:
        end = organization.current_period_end
        if end is not None and now < end:
            return Standing(True, warning=f"The subscription is canceled; processing stops on {_day(end)}.")
        return Standing(False, reason="The subscription is canceled; processing is paused.")
    if status == BillingStatus.NONE and stripe_configured() and organization.plan != "enterprise":
        trial_end = organization.trial_ends_at
        if trial_end is not None and now >= trial_end:
            return Standing(False, reason="The trial has ended; choose a plan to resume processing.")
        if trial_end is not None and trial_end - now <= timedelta(days=3):
            return Standing(True, warning=f"The trial ends on {_day(trial_end)}; choose a plan to keep processing.")
    return Standing(True)


def recent_invoices(organization: Organization, *, limit: int = 12) -> list[dict[str, object]]:
    """The organization's latest invoices as dj-stripe synced them (only its own customer's)."""
    from djstripe.models import Invoice

    rows = Invoice.objects.filter(customer__subscriber=organization).order_by("-created")[:limit]
    result: list[dict[str, object]] = []
    for invoice in rows:
        data = invoice.stripe_data or {}
        result.append(
            {
                "number": data.get("number") or invoice.id,
                "created": invoice.created,
                "total": Decimal(int(data.get("total") or 0)) / 100,
                "currency": str(data.get("currency") or "usd").upper(),
                "status": data.get("status") or "",
                "url": data.get("hosted_invoice_url") or "",
            }
        )
    return result
