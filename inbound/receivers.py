"""The anymail `inbound` signal receiver: every anymail webhook (Postmark, SES, any other ESP) lands here.

It runs on the public schema inside anymail's webhook view. Only database outages escape it
(so the provider gets a 5xx and retries); any other error is caught and recorded as an
invalid Delivery, because retrying the same input would fail the same way.
"""

from __future__ import annotations

import base64
import binascii
import logging
from contextvars import ContextVar
from email.message import Message
from email.policy import compat32
from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.utils.text import slugify

from inbound.models import Delivery, Verdict
from inbound.services import Outcome, Received, delivery_receive

logger = logging.getLogger(__name__)

# The webhook views (inbound.views) collect the outcomes of their request here to pick the
# status code; other anymail views leave it unset and always answer 200.
outcomes: ContextVar[list[Outcome] | None] = ContextVar("inbound_outcomes", default=None)


def provider_name(esp_name: str) -> str:
    """'Amazon SES' → 'amazon_ses', 'Postmark' → 'postmark'."""
    return slugify(esp_name).replace("-", "_")[:30]


def raw_bytes(event: AnymailInboundEvent) -> bytes:
    """The message as it was sent when the provider gave it to us, else re-serialised."""
    payload: Any = event.esp_event if isinstance(event.esp_event, dict) else {}
    raw_email = payload.get("RawEmail")
    if isinstance(raw_email, str):
        return raw_email.encode("utf-8", "surrogateescape")
    content = payload.get("content")
    action = payload.get("receipt", {}).get("action", {}) if isinstance(payload.get("receipt"), dict) else {}
    if isinstance(content, str):
        if isinstance(action, dict) and str(action.get("encoding", "")).upper() == "BASE64":
            try:
                return base64.b64decode(content)
            except (binascii.Error, ValueError):
                pass
        return content.encode("utf-8", "surrogateescape")
    return message_bytes(event.message)


def message_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes()
    except Exception:  # noqa: BLE001 - the modern policy refuses some broken headers; compat32 does not
        try:
            return message.as_bytes(policy=compat32)
        except Exception:  # noqa: BLE001
            return message.as_string(policy=compat32).encode("utf-8", "replace")


def webhook_event_receive(event: AnymailInboundEvent, esp_name: str) -> Outcome:
    provider = provider_name(esp_name)
    message = event.message
    try:
        received = Received(
            provider=provider,
            message=message,
            raw=raw_bytes(event),
            event_id=str(event.event_id or ""),
            envelope_sender=getattr(message, "envelope_sender", None),
            envelope_recipient=str(getattr(message, "envelope_recipient", None) or ""),
            received_at=event.timestamp,
        )
        return delivery_receive(received=received)
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:
        logger.exception("Inbound %s message could not be processed", provider)
        delivery = Delivery.objects.create(
            provider=provider,
            event_id=str(event.event_id or "")[:255],
            verdict=Verdict.INVALID,
            reason=f"Could not process the message ({type(error).__name__})",
        )
        return Outcome(verdict=Verdict.INVALID, reason=delivery.reason, delivery=delivery)


@receiver(inbound, dispatch_uid="projectr_inbound")
def inbound_received(sender: object, event: AnymailInboundEvent, esp_name: str, **kwargs: object) -> None:
    outcome = webhook_event_receive(event, esp_name)
    collected = outcomes.get()
    if collected is not None:
        collected.append(outcome)
