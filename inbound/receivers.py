"""The anymail `inbound` signal receiver: every anymail webhook (Postmark, SES, any other ESP) lands here.

It runs on the public schema inside anymail's webhook view. Only outages of the database or of
the file storage escape it (so the provider gets a 5xx and retries); any other error is caught and recorded as an
invalid Delivery, because retrying the same input would fail the same way.
"""

from __future__ import annotations

import base64
import binascii
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32
from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.utils.text import slugify

from inbound.models import Delivery, Verdict
from inbound.services import Decision, Outcome, Received, delivery_decide, delivery_receive, delivery_refuse
from organizations.storage import StorageUnavailable

logger = logging.getLogger(__name__)

# The webhook views (inbound.views) collect the outcomes of their request here to pick the
# status code; other anymail views leave it unset and always answer 200.
outcomes: ContextVar[list[Outcome] | None] = ContextVar("inbound_outcomes", default=None)


def provider_name(esp_name: str) -> str:
    """'Amazon SES' → 'amazon_ses', 'Postmark' → 'postmark'."""
    return slugify(esp_name).replace("-", "_")[:30]


def payload_raw(esp_event: object) -> bytes | None:
    """The message exactly as the provider sent it in its payload (Postmark RawEmail, SES SNS
    content), or None when the payload has no raw message."""
    payload: Any = esp_event if isinstance(esp_event, dict) else {}
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
    return None


def raw_bytes(event: AnymailInboundEvent) -> bytes:
    """The message as it was sent when the provider gave it to us, else re-serialised."""
    raw = payload_raw(event.esp_event)
    return raw if raw is not None else message_bytes(event.message)


def message_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes()
    except Exception:  # noqa: BLE001 - the modern policy refuses some broken headers; compat32 does not
        try:
            return message.as_bytes(policy=compat32)
        except Exception:  # noqa: BLE001
            return message.as_string(policy=compat32).encode("utf-8", "replace")


@dataclass(frozen=True)
class Screening:
    """A webhook message that passed the header screen (inbound.views), with its raw bytes."""

    decision: Decision
    raw: bytes


# Set by the screen of our webhook views for the receiver of the same request.
screened: ContextVar[Screening | None] = ContextVar("inbound_screened", default=None)


class Screened(Exception):
    """The header screen decided the message (refused, recorded): anymail need not parse it."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


def received_from_event(
    event: AnymailInboundEvent, esp_name: str, *, raw: bytes | None = None, headers_only: bool = False
) -> Received:
    message = event.message
    return Received(
        provider=provider_name(esp_name),
        message=message,
        raw=raw if raw is not None else raw_bytes(event),
        event_id=str(event.event_id or ""),
        envelope_sender=getattr(message, "envelope_sender", None),
        envelope_recipient=str(getattr(message, "envelope_recipient", None) or ""),
        received_at=event.timestamp,
        esp_event=event.esp_event,
        headers_only=headers_only,
    )


def _invalid_outcome(provider: str, event_id: object, error: Exception) -> Outcome:
    logger.exception("Inbound %s message could not be processed", provider)
    delivery = Delivery.objects.create(
        provider=provider,
        event_id=str(event_id or "")[:255],
        verdict=Verdict.INVALID,
        reason=f"Could not process the message ({type(error).__name__})",
    )
    return Outcome(verdict=Verdict.INVALID, reason=delivery.reason, delivery=delivery)


def event_screen(head_event: AnymailInboundEvent, esp_name: str, raw: bytes) -> None:
    """Decide a webhook message from its header block, before anymail parses the body.

    `head_event` is anymail's own event for the message cut to its header block (so the
    envelope, spam verdict and event id are anymail's), `raw` the whole message. A message
    that will not be stored is recorded here and Screened is raised; otherwise the decision
    waits in `screened` for the receiver, which then need not decide again.
    """
    received = received_from_event(head_event, esp_name, raw=raw, headers_only=True)
    try:
        decision = delivery_decide(received=received)
        if decision.state is None:
            outcome = delivery_refuse(received, decision)
        else:
            screened.set(Screening(decision=decision, raw=raw))
            return
    except (OperationalError, InterfaceError, StorageUnavailable):
        raise
    except Exception as error:  # noqa: BLE001 - logged and recorded by _invalid_outcome
        outcome = _invalid_outcome(received.provider, head_event.event_id, error)
    raise Screened(outcome)


def webhook_event_receive(event: AnymailInboundEvent, esp_name: str) -> Outcome:
    provider = provider_name(esp_name)
    screening = screened.get()
    screened.set(None)
    try:
        received = received_from_event(event, esp_name, raw=screening.raw if screening else None)
        return delivery_receive(received=received, decision=screening.decision if screening else None)
    except (OperationalError, InterfaceError, StorageUnavailable):
        raise
    except Exception as error:  # noqa: BLE001 - logged and recorded by _invalid_outcome
        return _invalid_outcome(provider, event.event_id, error)


@receiver(inbound, dispatch_uid="projectr_inbound")
def inbound_received(sender: object, event: AnymailInboundEvent, esp_name: str, **kwargs: object) -> None:
    outcome = webhook_event_receive(event, esp_name)
    collected = outcomes.get()
    if collected is not None:
        collected.append(outcome)
