"""Dashboard banners about the subscription and the plan's limits (templates/includes/banners.html)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django_tenants.utils import get_public_schema_name

from billing.selectors import Snapshot, Standing, billing_snapshot, billing_standing, request_snapshot
from organizations.access import get_membership
from organizations.models import AIBudgetAction, Organization, Role

Banner = dict[str, str]


def banners(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name() or tenant.is_template:
        return {"banners": []}
    membership = get_membership(request)
    if membership is None:
        return {"banners": []}
    # Only admins can act on billing; everyone else is told what is going on, without a link.
    link = reverse("billing:overview") if membership.has_role(Role.ADMIN) else ""
    return {"banners": banners_for(tenant, link=link, snapshot=request_snapshot(request, tenant))}


def banners_for(organization: Organization, *, link: str = "", snapshot: Snapshot | None = None) -> list[Banner]:
    standing = billing_standing(organization)
    snapshot = snapshot or billing_snapshot(organization)
    return [
        {**banner, "link": link, "link_text": "Billing" if link else ""}
        for banner in (*_standing_banners(standing), *_limit_banners(organization, snapshot))
    ]


def _standing_banners(standing: Standing) -> list[Banner]:
    if not standing.processing_allowed:
        return [{"level": "error", "text": f"{standing.reason} New mail is still received and stored."}]
    if standing.warning:
        return [{"level": "warning", "text": standing.warning}]
    return []


def _limit_banners(organization: Organization, snapshot: Snapshot) -> list[Banner]:
    until = date_format(timezone.localtime(snapshot.period.end), "SHORT_DATE_FORMAT")
    result = []
    if snapshot.emails_exhausted:
        result.append(
            {
                "level": "error",
                "text": f"This workspace has used all {snapshot.limits.emails} emails of its plan this period. "
                f"New mail is received and held until {until} or an upgrade.",
            }
        )
    elif (snapshot.email_share or 0) >= 0.8:
        result.append(
            {
                "level": "warning",
                "text": f"This workspace has used {snapshot.emails} of {snapshot.limits.emails} emails this period.",
            }
        )
    budget = snapshot.limits.ai_budget_usd
    if snapshot.ai_exhausted:
        if organization.overage_enabled:
            level, then = "info", "further AI cost is billed as overage."
        elif organization.ai_budget_action == AIBudgetAction.RULES:
            level, then = "warning", f"new mail is processed with the offline rules engine until {until}."
        else:
            level, then = "error", f"new mail is held until {until} or an upgrade."
        result.append({"level": level, "text": f"The AI budget of ${budget} this period is used up; {then}"})
    elif (snapshot.ai_share or 0) >= 0.8:
        result.append(
            {
                "level": "warning",
                "text": f"This workspace has used ${snapshot.ai_cost_usd:.2f} of its ${budget} AI budget this period.",
            }
        )
    return result
