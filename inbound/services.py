"""The edge of the pipeline: one received message → a Delivery row (public) and maybe an Email (tenant).

Webhooks (through the anymail signal receiver) and the ingest commands both call
`delivery_receive`, so every message goes through the same routing, checks and dedupe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from uuid import UUID, uuid4

from django.conf import settings

from events.ingest import DuplicateEmail, ParsedEmail, clean_text, email_id_reserve, email_store, message_parse
from events.models import EmailState
from events.tasks import email_enqueue_on_commit, email_task_rows
from inbound.checks import ignore_reason, loop_limit_reached_and_email_id, sender_allowed
from inbound.models import Delivery, Verdict
from inbound.routing import Route, normalize_address, recipient_candidates, route_find
from organizations.models import Organization

logger = logging.getLogger(__name__)

LOOP_HOLD_PREFIX = "Mail loop"


@dataclass(frozen=True)
class Received:
    """A message as it arrived, before any decision."""

    provider: str  # postmark, amazon_ses, eml, mbox, …
    message: Message
    raw: bytes
    event_id: str = ""
    envelope_sender: str | None = None  # None: unknown (files)
    envelope_recipient: str = ""
    received_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    verdict: str
    reason: str
    delivery: Delivery
    organization: Organization | None = None
    email_id: int | None = None

    @property
    def stored(self) -> bool:
        return self.email_id is not None


def _redact(address: str) -> str:
    local, at, domain = address.partition("@")
    return f"{local[:1]}…{at}{domain}" if at else "…"


def delivery_build(
    *,
    received: Received,
    verdict: str,
    reason: str,
    parsed: ParsedEmail | None = None,
    route: Route | None = None,
    recipient: str = "",
    email_code: UUID | None = None,
) -> Delivery:
    """The public-schema log row of one request (metadata only, never the body), unsaved."""
    return Delivery(
        provider=received.provider[:30],
        event_id=clean_text(received.event_id)[:255],
        message_id=parsed.message_id if parsed else "",
        recipient=(route.address if route else recipient)[:998],
        sender=normalize_address(parsed.from_address)[:998] if parsed else "",
        subject=(parsed.subject if parsed else "")[:300],
        organization=route.organization if route else None,
        verdict=verdict,
        reason=clean_text(reason)[:500],
        size=len(received.raw),
        email_code=email_code,
    )


def delivery_receive(
    *,
    received: Received,
    organization: Organization | None = None,
    check_sender: bool = True,
    backfill: bool = False,
    enqueue: bool = True,
) -> Outcome:
    """Route, check, dedupe and store one message; every outcome leaves a Delivery row saying why.

    `organization` skips routing (commands name the organization). Database errors
    propagate, so the webhook answers 5xx and the provider retries; nothing else should.
    """
    parsed = message_parse(received.message)
    candidates = recipient_candidates(received.envelope_recipient, parsed.headers)
    if organization is not None:
        route: Route | None = Route(organization=organization, address=candidates[0] if candidates else "")
    else:
        route = route_find(candidates)

    def finish(verdict: str, reason: str, *, with_route: bool = True) -> Outcome:
        delivery = delivery_build(
            received=received,
            verdict=verdict,
            reason=reason,
            parsed=parsed,
            route=route if with_route else None,
            recipient=candidates[0] if candidates else "",
        )
        delivery.save()
        logger.info("Inbound %s from %s: %s (%s)", received.provider, _redact(parsed.from_address), verdict, reason)
        return Outcome(verdict=verdict, reason=reason, delivery=delivery, organization=delivery.organization)

    if route is None:
        return finish(Verdict.REJECTED, "Unknown recipient: no organization has this address", with_route=False)
    if len(received.raw) > settings.INBOUND_MAX_MESSAGE_BYTES:
        return finish(
            Verdict.REJECTED,
            f"Message too large: {len(received.raw)} bytes (limit {settings.INBOUND_MAX_MESSAGE_BYTES})",
        )
    spam = getattr(received.message, "spam_detected", None) is True
    ignored = ignore_reason(parsed, envelope_sender=received.envelope_sender, spam=spam)
    allowed = not check_sender or sender_allowed(route.organization, parsed.from_address)
    if not allowed:
        if ignored:
            return finish(Verdict.IGNORED, ignored)
        return finish(Verdict.REJECTED, "Sender not allowed by the organization's sender policy")

    schema_name = route.organization.schema_name
    # The organization's tables are named with their schema from here on (events.ingest,
    # inbound.checks), so the connection stays on the public search path: switching it costs
    # a round trip, and another to switch back.
    state, reason, verdict = EmailState.QUEUED, "", Verdict.ACCEPTED
    looping = False
    if ignored or backfill:
        email_id = email_id_reserve(schema_name)
    else:
        looping, email_id = loop_limit_reached_and_email_id(route.organization, normalize_address(parsed.from_address))
    if ignored:
        state, reason, verdict = EmailState.IGNORED, ignored, Verdict.IGNORED
    elif looping:
        state, verdict = EmailState.HELD, Verdict.HELD
        reason = (
            f"{LOOP_HOLD_PREFIX}: more than {settings.INBOUND_LOOP_LIMIT} messages from this sender "
            f"in {settings.INBOUND_LOOP_WINDOW_SECONDS // 60} minutes; re-process it if it is genuine"
        )
    queue = enqueue and state == EmailState.QUEUED
    # The Email names itself to its Delivery row (code) and its task (id) before it is
    # written, so all of them go in one statement: no transaction, one round trip.
    email_code = uuid4()
    delivery = delivery_build(
        received=received, verdict=verdict, reason=reason, parsed=parsed, route=route, email_code=email_code
    )
    task_rows = email_task_rows(schema_name=schema_name, email_id=email_id) if queue else []
    try:
        # No lookup first: the unique constraints on Message-ID and provider event
        # decide, which also settles two copies arriving at once.
        email = email_store(
            parsed=parsed,
            raw=received.raw,
            provider=received.provider,
            provider_event_id=received.event_id,
            envelope_sender=received.envelope_sender or "",
            envelope_recipient=received.envelope_recipient,
            project_hint=route.project_hint,
            received_at=received.received_at,
            state=state,
            state_reason=reason,
            backfill=backfill,
            pk=email_id,
            code=email_code,
            also=[[delivery], task_rows or []],
            schema_name=schema_name,
        )
    except DuplicateEmail:
        return finish(Verdict.DUPLICATE, "Already received (same Message-ID or provider event)")
    if task_rows is None:
        email_enqueue_on_commit(schema_name=schema_name, email_id=email.pk)
    logger.info("Inbound %s stored in %s as %s", received.provider, schema_name, verdict)
    return Outcome(
        verdict=verdict, reason=reason, delivery=delivery, organization=route.organization, email_id=email.pk
    )
