"""The Stripe connection: whether payments are configured, the client, price ids ↔ plans.

Without a secret key everything but payment works (docs/architecture.md, "Embedded defaults"): plans are assigned by
staff and nothing here is called.
"""

from __future__ import annotations

import stripe
from django.conf import settings


def stripe_secret_key() -> str:
    return str(settings.STRIPE_LIVE_SECRET_KEY if settings.STRIPE_LIVE_MODE else settings.STRIPE_TEST_SECRET_KEY)


def stripe_configured() -> bool:
    return bool(stripe_secret_key())


def stripe_client() -> stripe.StripeClient:
    # Share the module-wide HTTP client when one is set, so dj-stripe's calls and ours go
    # through the same transport (tests install a fake one there: stripe.default_http_client).
    return stripe.StripeClient(stripe_secret_key(), http_client=stripe.default_http_client)


def price_for_plan(plan_code: str) -> str:
    """The Stripe price id of a plan ("" when the plan cannot be bought online)."""
    from billing.models import Plan

    plan = Plan.objects.filter(code=plan_code).first()
    if plan is None or not plan.stripe_price_setting:
        return ""
    return str(getattr(settings, plan.stripe_price_setting, "") or "")


def plan_for_price(price_id: str) -> str | None:
    """The plan code a Stripe price id stands for, or None for prices we do not know."""
    if not price_id:
        return None
    from billing.models import Plan

    for plan in Plan.objects.exclude(stripe_price_setting=""):
        if getattr(settings, plan.stripe_price_setting, "") == price_id:
            return plan.code
    return None
