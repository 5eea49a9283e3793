"""dj-stripe webhook handlers: keep Organization.plan / billing_status / current_period_end right.

They run inside dj-stripe's webhook transaction, in the public schema. Stripe delivers
events more than once and in any order, so every handler re-reads the subscription from
Stripe and copies its current state (subscription_apply). Events about customers we do not
know are logged and acknowledged: raising would make Stripe retry for days.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import stripe
from django_tenants.utils import get_public_schema_name
from djstripe.event_handlers import djstripe_receiver
from djstripe.models import Customer, Event

from billing.services import subscription_apply
from billing.stripe_api import stripe_client
from organizations.models import Organization

logger = logging.getLogger(__name__)


def _organization(pk: Any) -> Organization | None:
    try:
        org_id = int(pk)
    except (TypeError, ValueError):
        return None
    return (
        Organization.objects.exclude(schema_name=get_public_schema_name()).filter(pk=org_id, is_template=False).first()
    )


def _organization_for(subscription: Mapping[str, Any], hint: Organization | None) -> Organization | None:
    metadata = subscription.get("metadata") or {}
    org = _organization(metadata.get("org_id")) if isinstance(metadata, Mapping) else None
    if org is not None:
        return org
    if hint is not None:
        return hint
    customer = subscription.get("customer")
    customer_id = customer.get("id") if isinstance(customer, Mapping) else customer
    if not customer_id:
        return None
    subscriber_id = Customer.objects.filter(id=customer_id).values_list("subscriber_id", flat=True).first()
    return _organization(subscriber_id)


def subscription_sync(subscription_id: str, *, hint: Organization | None = None) -> bool:
    """Re-read a subscription from Stripe and apply it to its organization."""
    try:
        subscription = stripe_client().v1.subscriptions.retrieve(subscription_id).to_dict()
    except stripe.InvalidRequestError as exc:
        # Deleted test-mode data, or another Stripe account's object: nothing to apply.
        logger.warning("Subscription %s could not be read from Stripe: %s", subscription_id, exc.user_message)
        return False
    organization = _organization_for(subscription, hint)
    if organization is None:
        logger.info("Stripe subscription %s belongs to no organization; ignored", subscription_id)
        return False
    return subscription_apply(organization=organization, subscription=subscription)


def _object(event: Event) -> Mapping[str, Any]:
    data = event.data if isinstance(event.data, Mapping) else {}
    obj = data.get("object") or {}
    return obj if isinstance(obj, Mapping) else {}


def _id(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else ""


@djstripe_receiver(["customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"])
def subscription_changed(sender: Any, event: Event, **kwargs: Any) -> None:
    subscription_id = _id(_object(event).get("id"))
    if subscription_id:
        subscription_sync(subscription_id)


@djstripe_receiver(["invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"])
def invoice_changed(sender: Any, event: Event, **kwargs: Any) -> None:
    invoice = _object(event)
    subscription_id = _id(invoice.get("subscription"))
    if not subscription_id:
        # Since API 2025-03-31 the subscription sits under parent.subscription_details.
        parent = invoice.get("parent") or {}
        details = parent.get("subscription_details") or {} if isinstance(parent, Mapping) else {}
        subscription_id = _id(details.get("subscription")) if isinstance(details, Mapping) else ""
    if subscription_id:
        subscription_sync(subscription_id)
    else:
        logger.info("Invoice %s (%s) has no subscription; ignored", invoice.get("id"), event.type)


@djstripe_receiver("checkout.session.completed")
def checkout_completed(sender: Any, event: Event, **kwargs: Any) -> None:
    session = _object(event)
    subscription_id = _id(session.get("subscription"))
    if session.get("mode") != "subscription" or not subscription_id:
        return
    metadata = session.get("metadata") or {}
    hint = _organization(session.get("client_reference_id")) or (
        _organization(metadata.get("org_id")) if isinstance(metadata, Mapping) else None
    )
    subscription_sync(subscription_id, hint=hint)
