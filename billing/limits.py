"""The one limits service: emails this billing period, project count, AI spend this period.

Counts come from the usage ledger (public schema), never from tenant tables. Mail over a
limit is held, never dropped: the inbound pipeline asks again later (its re-queue schedule),
and the answer changes when the period rolls over or the plan is upgraded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format

from billing.selectors import billing_snapshot, billing_standing, limits_for
from billing.services import limit_notices_send
from organizations.models import AIBudgetAction, Organization


@dataclass(frozen=True)
class ProcessingDecision:
    allowed: bool  # False → the email is held, with `reason`
    reason: str = ""
    provider_override: str | None = None  # e.g. "rules" when the AI budget is used up


def processing_decision(organization: Organization, *, now: datetime | None = None) -> ProcessingDecision:
    """May this organization's next email be processed now, and with which provider?

    Also sends the 80 %/100 % notices when a threshold has been crossed (once per period).
    """
    now = now or timezone.now()
    standing = billing_standing(organization, now=now)
    if not standing.processing_allowed:
        return ProcessingDecision(allowed=False, reason=standing.reason)
    snapshot = billing_snapshot(organization, now=now)
    limit_notices_send(organization=organization, snapshot=snapshot)
    resumes = date_format(timezone.localtime(snapshot.period.end), "N j, Y")
    if snapshot.emails_exhausted:
        return ProcessingDecision(
            allowed=False,
            reason=f"The plan's limit of {snapshot.limits.emails} emails this period is reached; "
            f"held until {resumes} or an upgrade.",
        )
    if snapshot.ai_exhausted and not organization.overage_enabled:
        if organization.ai_budget_action == AIBudgetAction.RULES:
            return ProcessingDecision(allowed=True, provider_override="rules")
        return ProcessingDecision(
            allowed=False,
            reason=f"The AI budget of ${snapshot.limits.ai_budget_usd} this period is used up; "
            f"held until {resumes} or an upgrade.",
        )
    return ProcessingDecision(allowed=True)


def project_creation_allowed(organization: Organization, *, current_count: int) -> bool:
    """Whether one more project fits the plan (the caller counts its open projects)."""
    limit = limits_for(organization).projects
    return limit is None or current_count < limit
