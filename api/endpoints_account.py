"""/api/v1/usage and /api/v1/subscription: read-only, from the usage ledger and billing selectors
(public schema, always for the key's own organization)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from api.auth import api_access
from api.schemas import ERRORS, DayOut, SubscriptionOut, UsageOut
from billing.selectors import billing_snapshot, billing_standing
from events.selectors import held_email_count
from projects.selectors import open_project_count
from usage.selectors import usage_daily

router = Router(tags=["usage and subscription"])


@router.get("/usage", response={200: UsageOut, **ERRORS}, summary="This billing period against the plan's limits")
def usage_current(request: HttpRequest) -> dict[str, object]:
    organization = api_access(request).organization
    snapshot = billing_snapshot(organization)
    return {
        "period": snapshot.period,
        "emails": {"used": snapshot.emails, "limit": snapshot.limits.emails},
        "open_projects": {"used": open_project_count(), "limit": snapshot.limits.projects},
        "ai_cost_usd": {"used": snapshot.ai_cost_usd, "limit": snapshot.limits.ai_budget_usd},
        "held_emails": held_email_count(),
    }


@router.get("/usage/daily", response={200: list[DayOut], **ERRORS}, summary="Emails and AI cost per day")
def usage_days(request: HttpRequest, days: int = Query(30, ge=1, le=90)) -> list[object]:
    """The last `days` days (today included, UTC), zeros filled in; the raw ledger is kept 90 days."""
    organization = api_access(request).organization
    return list(usage_daily(organization, days=days))


@router.get("/subscription", response={200: SubscriptionOut, **ERRORS}, summary="Plan, status, period and limits")
def subscription(request: HttpRequest) -> dict[str, object]:
    organization = api_access(request).organization
    snapshot = billing_snapshot(organization)
    standing = billing_standing(organization)
    return {
        "plan": snapshot.plan,
        "billing_status": organization.billing_status,
        "processing_allowed": standing.processing_allowed,
        "notice": standing.reason or standing.warning,
        "period": snapshot.period,
        "current_period_end": organization.current_period_end,
        "trial_ends_at": organization.trial_ends_at,
        "limits": snapshot.limits,
        "overage_enabled": organization.overage_enabled,
        "ai_budget_action": organization.ai_budget_action,
    }
