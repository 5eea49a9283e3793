"""The billing page's one account of where a workspace stands: its plan, the subscription's state,
the trial, the period and what the current plan's card says, all derived from the same fields
in one place so no two lines of the page can disagree (such as "Professional · current" above
"Status: No subscription")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format

from billing.selectors import Snapshot
from billing.stripe_api import stripe_configured
from organizations.models import BillingStatus, Organization

ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class BillingState:
    """`status` is the single phrase the page shows after "Status:"; `badge` is what the card of
    the organization's plan says instead of a bare "current"; `tone` colours both (ok, warning,
    error); `period` names the dates the usage counts belong to and `renewal` what happens at its
    end. `subscribed` is true while a Stripe subscription exists (the portal manages it)."""

    plan_name: str
    status: str
    badge: str
    tone: str
    period: str
    renewal: str
    subscribed: bool


def _day(value: datetime) -> str:
    return date_format(timezone.localtime(value), "DATE_FORMAT")


def _period(snapshot: Snapshot) -> str:
    start = date_format(timezone.localtime(snapshot.period.start), "SHORT_DATE_FORMAT")
    return f"{start} – {date_format(snapshot.period.last_day, 'DATE_FORMAT')}"


def billing_state(organization: Organization, snapshot: Snapshot, *, now: datetime | None = None) -> BillingState:
    """No queries: the organization's fields and the snapshot (billing.selectors.billing_snapshot)."""
    now = now or timezone.now()
    plan_name = snapshot.plan.name if snapshot.plan else organization.plan.title()
    status, badge, tone, renewal = _status(organization, now=now)
    return BillingState(
        plan_name=plan_name,
        status=status,
        badge=badge,
        tone=tone,
        period=_period(snapshot),
        renewal=renewal,
        subscribed=organization.billing_status not in (BillingStatus.NONE, BillingStatus.CANCELED),
    )


def _status(organization: Organization, *, now: datetime) -> tuple[str, str, str, str]:
    """(status, badge, tone, renewal), the same order of cases as billing.selectors.billing_standing."""
    status = organization.billing_status
    end = organization.current_period_end
    if status == BillingStatus.ACTIVE:
        return "Active subscription", "Your plan", "ok", f"Renews on {_day(end)}." if end else ""
    if status == BillingStatus.TRIALING:
        trial_end = organization.trial_ends_at or end
        until = f" until {_day(trial_end)}" if trial_end else ""
        renewal = f"The first payment is taken on {_day(trial_end)}." if trial_end else ""
        return f"Subscribed, in its free trial{until}", "Your plan · trial", "ok", renewal
    if status == BillingStatus.PAST_DUE:
        return "Subscribed, payment past due", "Your plan · payment past due", "warning", ""
    if status == BillingStatus.UNPAID:
        return "Subscribed, unpaid: processing is paused", "Your plan · unpaid", "error", ""
    if status == BillingStatus.CANCELED:
        if end is not None and now < end:
            return f"Canceled: it ends on {_day(end)}", f"Your plan until {_day(end)}", "warning", ""
        return "Canceled: processing is paused", "Your last plan", "error", ""
    # No subscription: what the plan rests on instead.
    if organization.plan == ENTERPRISE:
        return "By agreement with Projectr", "Your plan", "ok", ""
    if not stripe_configured():
        return "Assigned by Projectr staff (no online payment here)", "Your plan", "ok", ""
    trial_end = organization.trial_ends_at
    if trial_end is not None and now < trial_end:
        return f"Free trial until {_day(trial_end)}, no subscription yet", "Your plan · free trial", "ok", ""
    if trial_end is not None:
        return f"Trial ended on {_day(trial_end)}: choose a plan", "Trial ended", "error", ""
    return "No subscription", "Your plan · not subscribed", "warning", ""
