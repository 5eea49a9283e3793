"""Billing services: plans as data, limit notices, the subscription state, Checkout and the
Customer Portal, and overage reporting to a Stripe Billing Meter. They own their transactions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce, TruncDate
from django.template.loader import render_to_string
from django.utils import timezone

from billing.models import DEFAULT_PLANS, LimitNotice, MeterReport, Plan
from billing.selectors import Snapshot, limits_for
from billing.stripe_api import plan_for_price, price_for_plan, stripe_client, stripe_configured
from organizations.models import AIBudgetAction, BillingStatus, Membership, Organization, Role
from usage.models import UsageRecord
from usage.selectors import usage_period

logger = logging.getLogger(__name__)

NOTICE_THRESHOLDS = (80, 100)


class BillingError(Exception):
    """A billing action that cannot be done; the message is meant for the user."""


def plans_ensure() -> None:
    """Create or refresh the three standard plans (also run by migration 0002)."""
    for row in DEFAULT_PLANS:
        Plan.objects.update_or_create(code=row["code"], defaults=row)


# --- limit notices ----------------------------------------------------------------------------


def limit_notices_send(*, organization: Organization, snapshot: Snapshot) -> list[LimitNotice]:
    """Tell the organization's admins at 80 % and 100 % of the email limit and the AI budget,
    once per period each (the LimitNotice unique constraint is the "once")."""
    due = [
        (limit, threshold)
        for limit, share in (("emails", snapshot.email_share), ("ai_budget", snapshot.ai_share))
        if share is not None
        for threshold in NOTICE_THRESHOLDS
        if share * 100 >= threshold
    ]
    if not due:
        return []
    sent = []
    period_start = snapshot.period.start.date()
    with transaction.atomic():
        for limit, threshold in due:
            notice, created = LimitNotice.objects.get_or_create(
                organization=organization, period_start=period_start, limit=limit, threshold=threshold
            )
            if created:
                sent.append(notice)
        if sent:
            recipients = list(
                Membership.objects.filter(organization=organization, role__in=(Role.OWNER, Role.ADMIN))
                .exclude(user__email="")
                .values_list("user__email", flat=True)
            )
            for notice in sent:
                subject, body = _notice_message(organization, snapshot, notice)
                # Mail goes out only once the notice row is committed, so a rollback never
                # leaves admins told about a notice we will send again.
                transaction.on_commit(
                    lambda s=subject, b=body: send_mail(s, b, None, recipients, fail_silently=True)  # type: ignore[misc]
                )
    return sent


def _notice_message(organization: Organization, snapshot: Snapshot, notice: LimitNotice) -> tuple[str, str]:
    what = "email limit" if notice.limit == "emails" else "AI budget"
    subject = f"[Projectr] {organization.name} has used {notice.threshold} % of its {what}"
    body = render_to_string(
        "billing/email/limit_notice.txt",
        {
            "organization": organization,
            "snapshot": snapshot,
            "notice": notice,
            "what": what,
            "billing_url": organization.absolute_url("/billing/"),
        },
    )
    return subject, body


# --- settings chosen by admins ----------------------------------------------------------------


def billing_settings_update(*, organization: Organization, ai_budget_action: str, overage_enabled: bool) -> None:
    if ai_budget_action not in AIBudgetAction.values:
        raise BillingError("Unknown choice for a used-up AI budget.")
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        org.ai_budget_action = ai_budget_action
        org.overage_enabled = overage_enabled
        org.save(update_fields=["ai_budget_action", "overage_enabled"])
    organization.ai_budget_action = ai_budget_action
    organization.overage_enabled = overage_enabled


def plan_assign(*, organization: Organization, plan_code: str) -> None:
    """Staff assign a plan by hand (no Stripe, or an Enterprise deal)."""
    if not Plan.objects.filter(code=plan_code).exists():
        raise BillingError(f"Unknown plan '{plan_code}'.")
    with transaction.atomic():
        Organization.objects.filter(pk=organization.pk).update(plan=plan_code)
    organization.plan = plan_code


# --- the subscription, as Stripe says it is ---------------------------------------------------

STATUS_MAP = {
    "trialing": BillingStatus.TRIALING,
    "active": BillingStatus.ACTIVE,
    "past_due": BillingStatus.PAST_DUE,
    "unpaid": BillingStatus.UNPAID,
    # Paused = a trial ended without a payment method: nothing is being paid.
    "paused": BillingStatus.UNPAID,
    "canceled": BillingStatus.CANCELED,
    "incomplete_expired": BillingStatus.CANCELED,
    # The first payment is still pending: no subscription yet as far as limits go.
    "incomplete": BillingStatus.NONE,
}
LIVE_STRIPE_STATUSES = ("trialing", "active", "past_due")


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _subscription_items(subscription: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = subscription.get("items") or {}
    return list(items.get("data") or []) if isinstance(items, Mapping) else []


def _subscription_period_end(subscription: Mapping[str, Any]) -> datetime | None:
    # Since API 2025-03-31 the period lives on the items; older versions have it on the subscription.
    ends = [item.get("current_period_end") for item in _subscription_items(subscription)]
    ends.append(subscription.get("current_period_end"))
    return _timestamp(max((int(end) for end in ends if end), default=0))


def _subscription_plan(subscription: Mapping[str, Any]) -> str | None:
    for item in _subscription_items(subscription):
        price = item.get("price") or item.get("plan") or {}
        price_id = price.get("id") if isinstance(price, Mapping) else price
        plan = plan_for_price(str(price_id or ""))
        if plan:
            return plan
    return None


def subscription_apply(*, organization: Organization, subscription: Mapping[str, Any]) -> bool:
    """Make the organization's plan, status and period match a subscription re-read from Stripe.

    Idempotent and order-independent: it only ever copies Stripe's current state. Returns
    whether anything changed.
    """
    status = STATUS_MAP.get(str(subscription.get("status") or ""))
    if status is None:
        logger.warning(
            "Subscription %s has unknown status %r; ignored", subscription.get("id"), subscription.get("status")
        )
        return False
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if status in (BillingStatus.CANCELED, BillingStatus.NONE) and _has_other_live_subscription(
            org, str(subscription.get("id") or "")
        ):
            # An old subscription ending must not override the one that replaced it.
            logger.info("Subscription %s ended but %s has another live one; ignored", subscription.get("id"), org.slug)
            return False
        changed: list[str] = []
        plan = _subscription_plan(subscription)
        if plan and plan != org.plan:
            org.plan = plan
            changed.append("plan")
        if status != org.billing_status:
            org.billing_status = status
            org.billing_status_changed_at = timezone.now()
            changed += ["billing_status", "billing_status_changed_at"]
        period_end = _subscription_period_end(subscription)
        if period_end and period_end != org.current_period_end:
            org.current_period_end = period_end
            changed.append("current_period_end")
        trial_end = _timestamp(subscription.get("trial_end"))
        if status == BillingStatus.TRIALING and trial_end and trial_end != org.trial_ends_at:
            org.trial_ends_at = trial_end
            changed.append("trial_ends_at")
        if changed:
            org.save(update_fields=changed)
            logger.info("Billing for %s now %s/%s (%s)", org.slug, org.plan, org.billing_status, ", ".join(changed))
    for field in changed:
        setattr(organization, field, getattr(org, field))
    return bool(changed)


def _has_other_live_subscription(organization: Organization, subscription_id: str) -> bool:
    from djstripe.models import Subscription

    return (
        Subscription.objects.filter(customer__subscriber=organization, stripe_data__status__in=LIVE_STRIPE_STATUSES)
        .exclude(id=subscription_id)
        .exists()
    )


def live_subscription_id(organization: Organization) -> str | None:
    from djstripe.models import Subscription

    return (
        Subscription.objects.filter(customer__subscriber=organization, stripe_data__status__in=LIVE_STRIPE_STATUSES)
        .order_by("-created")
        .values_list("id", flat=True)
        .first()
    )


# --- Checkout and the Customer Portal ---------------------------------------------------------


def _require_stripe() -> None:
    if not stripe_configured():
        raise BillingError("Online payments are not configured. Ask Projectr staff to change the plan.")


def stripe_customer_id(organization: Organization, *, create: bool) -> str | None:
    """The organization's one Stripe customer (dj-stripe links it through metadata)."""
    from djstripe.models import Customer

    existing = (
        Customer.objects.filter(subscriber=organization, livemode=settings.STRIPE_LIVE_MODE)
        .values_list("id", flat=True)
        .first()
    )
    if existing or not create:
        return existing
    customer, _ = Customer.get_or_create(subscriber=organization, livemode=settings.STRIPE_LIVE_MODE)
    return str(customer.id)


@dataclass(frozen=True)
class Redirect:
    url: str


def checkout_session_create(*, organization: Organization, plan_code: str, return_url: str) -> Redirect:
    """Checkout for a new subscription; an organization that already pays changes plan in
    the Portal's confirm-the-upgrade flow instead, so it never ends up with two subscriptions."""
    _require_stripe()
    price = price_for_plan(plan_code)
    if not price:
        raise BillingError("This plan cannot be bought online. Contact us for Enterprise.")
    customer = stripe_customer_id(organization, create=True)
    client = stripe_client()
    current = live_subscription_id(organization)
    if current:
        session = client.v1.billing_portal.sessions.create(
            {
                "customer": str(customer),
                "return_url": return_url,
                "flow_data": {"type": "subscription_update", "subscription_update": {"subscription": current}},
            }
        )
        return Redirect(url=str(session.url))
    line_items: list[dict[str, Any]] = [{"price": price, "quantity": 1}]
    if settings.STRIPE_PRICE_OVERAGE:
        # Always on the subscription, so opting into overage later needs no plan change; it
        # costs nothing unless meter events are sent, and they are sent only after opting in.
        line_items.append({"price": settings.STRIPE_PRICE_OVERAGE})  # metered: no quantity
    subscription_data: dict[str, Any] = {"metadata": {"org_id": str(organization.pk)}}
    trial_end = organization.trial_ends_at
    if trial_end is not None and trial_end - timezone.now() > timedelta(days=2):
        # Paying during the local trial must not cut it short; Stripe wants trial_end ≥ 48 h ahead.
        subscription_data["trial_end"] = int(trial_end.timestamp())
    params: Any = {
        "mode": "subscription",
        "customer": str(customer),
        "client_reference_id": str(organization.pk),
        "line_items": line_items,
        "subscription_data": subscription_data,
        "metadata": {"org_id": str(organization.pk)},
        "success_url": f"{return_url}?checkout=success",
        "cancel_url": f"{return_url}?checkout=cancel",
    }
    checkout = client.v1.checkout.sessions.create(params)
    return Redirect(url=str(checkout.url))


def portal_session_create(*, organization: Organization, return_url: str) -> Redirect:
    _require_stripe()
    customer = stripe_customer_id(organization, create=False)
    if not customer:
        raise BillingError("There is no subscription to manage yet: choose a plan first.")
    session = stripe_client().v1.billing_portal.sessions.create({"customer": customer, "return_url": return_url})
    return Redirect(url=str(session.url))


# --- overage to a Billing Meter ---------------------------------------------------------------

CENT = Decimal("0.01")


def _cents(amount: Decimal) -> int:
    # Round down: an organization is never billed for a fraction of a cent it did not use.
    return int(max(Decimal(0), amount).quantize(CENT, rounding=ROUND_DOWN) * 100)


def meter_report(*, organization: Organization, now: datetime | None = None) -> list[MeterReport]:
    """Report this period's AI cost above the budget to the Stripe Billing Meter, as per-day deltas.

    Each event's identifier is derived from (organization, period, day, the day's running
    total), so re-running sends nothing already reported, and a run that died between
    sending and saving resends the same identifier, which Stripe deduplicates.
    """
    if not organization.overage_enabled or not stripe_configured():
        return []
    budget = limits_for(organization).ai_budget_usd
    if budget is None:
        return []
    customer = stripe_customer_id(organization, create=False)
    if not customer:
        logger.info("Overage for %s not reported: no Stripe customer", organization.slug)
        return []
    now = now or timezone.now()
    period = usage_period(organization, now=now)
    prefix = f"projectr-overage-{organization.pk}-{period.start:%Y%m%d}-"
    daily = (
        UsageRecord.objects.filter(organization=organization, created_at__gte=period.start, created_at__lt=now)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(cost=Coalesce(Sum("cost_usd"), Decimal(0)))
        .order_by("day")
    )
    reported = []
    client = stripe_client()
    with transaction.atomic():
        # One run at a time per organization.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        already: dict[Any, int] = {}
        for report in MeterReport.objects.filter(organization=organization, identifier__startswith=prefix):
            already[report.day] = already.get(report.day, 0) + report.reported_cents
        cumulative = Decimal(0)
        overage_before = 0
        for row in daily:
            cumulative += row["cost"]
            overage_after = _cents(cumulative - budget)
            day_total = overage_after - overage_before
            overage_before = overage_after
            increment = day_total - already.get(row["day"], 0)
            if increment <= 0:
                continue
            identifier = f"{prefix}{row['day']:%Y%m%d}-{day_total}"
            noon = datetime.combine(row["day"], time(12), tzinfo=UTC)
            timestamp = min(max(noon, period.start), now - timedelta(seconds=1))
            client.v1.billing.meter_events.create(
                {
                    "event_name": settings.STRIPE_METER_EVENT_NAME,
                    "identifier": identifier,
                    "payload": {"stripe_customer_id": customer, "value": str(increment)},
                    "timestamp": int(timestamp.timestamp()),
                }
            )
            reported.append(
                MeterReport.objects.create(
                    organization=organization, day=row["day"], reported_cents=increment, identifier=identifier
                )
            )
    return reported
