"""billing.selectors_state: one account of plan, subscription, trial and period, whose lines never
contradict each other (such as "Professional · current" above "Status: No subscription")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from billing.selectors import billing_snapshot, billing_standing
from billing.selectors_state import billing_state
from organizations.models import BillingStatus, Organization

NOW = timezone.now()


def _state(org: Organization, **fields: Any) -> Any:
    Organization.objects.filter(pk=org.pk).update(**fields)
    org.refresh_from_db()
    return billing_state(org, billing_snapshot(org), now=NOW)


def _days(n: int) -> datetime:
    return NOW + timedelta(days=n)


@pytest.mark.usefixtures("stripe_keys")
@pytest.mark.parametrize(
    ("fields", "status", "badge", "subscribed"),
    [
        ({"billing_status": BillingStatus.ACTIVE, "current_period_end": _days(20)}, "Active subscription", "Your plan", True),
        ({"billing_status": BillingStatus.TRIALING, "trial_ends_at": _days(5)}, "Subscribed, in its free trial until", "Your plan · trial", True),
        ({"billing_status": BillingStatus.PAST_DUE}, "Subscribed, payment past due", "Your plan · payment past due", True),
        ({"billing_status": BillingStatus.UNPAID}, "Subscribed, unpaid", "Your plan · unpaid", True),
        ({"billing_status": BillingStatus.CANCELED, "current_period_end": _days(3)}, "Canceled: it ends on", "Your plan until", False),
        ({"billing_status": BillingStatus.CANCELED, "current_period_end": _days(-3)}, "Canceled: processing is paused", "Your last plan", False),
        ({"billing_status": BillingStatus.NONE, "trial_ends_at": _days(9)}, "Free trial until", "Your plan · free trial", False),
        ({"billing_status": BillingStatus.NONE, "trial_ends_at": _days(-1)}, "Trial ended on", "Trial ended", False),
        ({"billing_status": BillingStatus.NONE, "trial_ends_at": None}, "No subscription", "Your plan · not subscribed", False),
        ({"billing_status": BillingStatus.NONE, "plan": "enterprise", "trial_ends_at": None}, "By agreement with Projectr", "Your plan", False),
    ],
)  # fmt: skip
def test_each_subscription_state_has_one_status_and_a_badge_that_agrees(
    org: Organization, fields: dict[str, Any], status: str, badge: str, subscribed: bool
) -> None:
    state = _state(org, **fields)
    assert state.status.startswith(status)
    assert state.badge.startswith(badge)
    assert state.subscribed is subscribed
    # A plan without a subscription is never called plainly "current" or "Active".
    if not subscribed:
        assert "Active" not in state.status


@pytest.mark.usefixtures("stripe_keys")
def test_the_tone_follows_whether_mail_is_processed(org: Organization) -> None:
    for fields in (
        {"billing_status": BillingStatus.NONE, "trial_ends_at": _days(-1)},
        {"billing_status": BillingStatus.UNPAID},
        {"billing_status": BillingStatus.CANCELED, "current_period_end": _days(-1)},
    ):
        state = _state(org, **fields)
        assert state.tone == "error"
        assert billing_standing(org, now=NOW).processing_allowed is False


def test_without_online_payments_the_plan_is_staff_assigned(org: Organization) -> None:
    state = _state(org, billing_status=BillingStatus.NONE, trial_ends_at=_days(-30), plan="professional")
    assert (state.plan_name, state.badge, state.tone) == ("Professional", "Your plan", "ok")
    assert state.status.startswith("Assigned by Projectr staff")


def test_it_reads_no_database(org: Organization, django_assert_num_queries: Any) -> None:
    snapshot = billing_snapshot(org)
    with django_assert_num_queries(0):
        state = billing_state(org, snapshot)
    assert "–" in state.period
