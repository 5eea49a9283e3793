from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.test import RequestFactory
from django.utils import timezone

from billing.banners import banners, banners_for
from organizations.models import AIBudgetAction, BillingStatus, Organization
from tests.billing.factories import ledger


def texts(organization: Organization) -> list[tuple[str, str]]:
    return [(banner["level"], banner["text"]) for banner in banners_for(organization)]


def test_a_healthy_organization_gets_no_banner(org: Organization) -> None:
    ledger(org, emails=10)

    assert texts(org) == []


def test_the_email_limit_banner_says_mail_is_held(org: Organization) -> None:
    ledger(org, emails=500)

    ((level, text),) = texts(org)

    assert level == "error"
    assert "used all 500 emails" in text
    assert "held until" in text


def test_the_ai_banner_follows_the_chosen_action(org: Organization) -> None:
    ledger(org, emails=1, cost_each=Decimal("25"))
    assert "new mail is held" in texts(org)[0][1]

    org.ai_budget_action = AIBudgetAction.RULES
    assert "offline rules engine" in texts(org)[0][1]

    org.overage_enabled = True
    assert texts(org)[0] == (
        "info",
        "The AI budget of $20.00 this period is used up; further AI cost is billed as overage.",
    )


def test_paused_processing_says_mail_is_still_stored(org: Organization) -> None:
    org.billing_status = BillingStatus.UNPAID

    ((level, text),) = texts(org)

    assert level == "error"
    assert text.endswith("New mail is still received and stored.")


def test_a_trial_about_to_end_is_announced_when_payments_are_configured(org: Organization, settings: Any) -> None:
    settings.STRIPE_TEST_SECRET_KEY = "sk_test_" + "x" * 24
    org.trial_ends_at = timezone.now() + timedelta(days=2)

    assert texts(org)[0][0] == "warning"
    assert "The trial ends on" in texts(org)[0][1]


def test_the_public_host_gets_no_banners(public: Organization, rf: RequestFactory) -> None:
    request = rf.get("/")
    request.tenant = public  # type: ignore[attr-defined]

    assert banners(request) == {"banners": []}
