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

from events.enqueue import email_enqueue_on_commit, email_task_rows
from events.ingest import (
    DuplicateEmail,
    ParsedEmail,
    ParsedHead,
    clean_text,
    email_id_reserve,
    email_store,
    message_head_parse,
    message_parse,
    parse_bytes,
)
from events.models import EmailState, HoldCause
from inbound.authentication import AuthResult, SenderAuth, provider_results, sender_auth
from inbound.checks import (
    BACKFILL_PROVIDERS,
    Standing,
    ignore_reason,
    loop_limit_reached_and_email_id,
    policy_allows,
    sender_standing,
)
from inbound.kept import refused_message_keep
from inbound.models import Delivery, RefusalCause, Verdict
from inbound.routing import Route, normalize_address, recipient_candidates, route_find
from inbound.structure import structure_scan, tree_scan
from organizations.models import Organization, SenderPolicy, TrustedDomain

logger = logging.getLogger(__name__)


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
    # The provider's payload (Postmark's JSON, SES's notification): its authentication verdicts.
    esp_event: object = None
    # `message` holds the header block only; the body is parsed from `raw` if it is stored.
    headers_only: bool = False
    # The sender verdict found when the message first arrived (a kept refused message brought in
    # later: its provider's payload is gone), used instead of reading the verdicts again.
    auth: SenderAuth | None = None

    @property
    def spam(self) -> bool:
        """The provider's spam verdict (anymail's spam_detected)."""
        return getattr(self.message, "spam_detected", None) is True


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


@dataclass(frozen=True)
class Decision:
    """What the header block decided (delivery_decide): refuse the message (`state` None) or store
    it in `state` (queued mail may still be held by the loop limit when it is stored)."""

    head: ParsedHead
    candidates: list[str]
    route: Route | None
    auth: SenderAuth | None
    verdict: str
    reason: str
    state: str | None = None
    cause: str = ""  # RefusalCause or HoldCause, where a person can act on it
    # Not authenticated, but its From domain is trusted without authentication: by whom, since when.
    trusted: TrustedDomain | None = None


def _redact(address: str) -> str:
    local, at, domain = address.partition("@")
    return f"{local[:1]}…{at}{domain}" if at else "…"


def delivery_build(
    *,
    received: Received,
    verdict: str,
    reason: str,
    parsed: ParsedEmail | ParsedHead | None = None,
    route: Route | None = None,
    recipient: str = "",
    email_code: UUID | None = None,
    auth: SenderAuth | None = None,
    cause: str = "",
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
        authentication=auth.result.value if auth else "",
        authentication_detail=clean_text(auth.detail)[:300] if auth else "",
        spf=auth.results.spf[:12] if auth else "",
        dkim=auth.results.dkim[:12] if auth else "",
        dmarc=auth.results.dmarc[:12] if auth else "",
        cause=cause,
        size=len(received.raw),
        email_code=email_code,
    )


def _auth_hold_reason(head: ParsedHead, auth: SenderAuth) -> str:
    """ "Sender not authenticated: From says owner@acme.test, but DMARC fail for acme.test (…); …"."""
    address = normalize_address(head.from_address) or "no address"
    return (
        f"{HoldCause.SENDER_NOT_AUTHENTICATED.label}: From says {address}, but {auth.detail}; "
        "release it only if you know it is genuine"
    )


def _log_message(decision: Decision, reason: str) -> str:
    """The stored email's first log line: why it is in its state, and its sender's verdict."""
    auth = decision.auth
    if auth is None or decision.cause == HoldCause.SENDER_NOT_AUTHENTICATED:
        return reason
    line = f"{reason or 'Received'}; {auth.describe()}"
    if decision.trusted is not None:
        trusted = decision.trusted
        by = f" by {trusted.created_by.email}" if trusted.created_by else ""
        line += (
            f"; accepted: {trusted.domain} is trusted without authentication (since {trusted.created_at:%Y-%m-%d}{by})"
        )
    return line


def trusted_domain_find(organization: Organization, from_domain: str) -> TrustedDomain | None:
    """The organization's trust in this From domain without authentication, if an admin gave it."""
    if not from_domain:
        return None
    return (
        TrustedDomain.objects.filter(organization=organization, domain=from_domain.lower())
        .select_related("created_by")
        .first()
    )


def delivery_decide(
    *,
    received: Received,
    organization: Organization | None = None,
    check_sender: bool = True,
    route: Route | None = None,
) -> Decision:
    """Every decision the header block can make, before the body is parsed: routing, size,
    machine mail, the sender policy, sender authentication and the MIME structure (a byte scan,
    only for mail that would be stored). A refused sender costs a header parse and a query.

    The From address of a member or an allowed sender counts as theirs only when the provider's
    verdicts authenticate its domain (inbound.authentication); otherwise the message is held
    for an admin (docs/security.md) whatever the policy, and never processed on its own.
    """
    head = message_head_parse(received.message)
    candidates = recipient_candidates(received.envelope_recipient, head.headers)
    if route is None and organization is not None:
        route = Route(organization=organization, address=candidates[0] if candidates else "")
    elif route is None:
        route = route_find(candidates)

    def decided(
        verdict: str,
        reason: str,
        state: str | None = None,
        auth: SenderAuth | None = None,
        cause: str = "",
        trusted: TrustedDomain | None = None,
    ) -> Decision:
        return Decision(
            head=head,
            candidates=candidates,
            route=route,
            auth=auth,
            verdict=verdict,
            reason=reason,
            state=state,
            cause=cause,
            trusted=trusted,
        )

    if route is None:
        return decided(Verdict.REJECTED, "Unknown recipient: no organization has this address")
    if len(received.raw) > settings.INBOUND_MAX_MESSAGE_BYTES:
        return decided(
            Verdict.REJECTED,
            f"Message too large: {len(received.raw)} bytes (limit {settings.INBOUND_MAX_MESSAGE_BYTES})",
        )
    if len(head.headers) > settings.INBOUND_MAX_HEADERS:
        return decided(
            Verdict.REJECTED,
            f"Too many header fields: {len(head.headers)} (limit {settings.INBOUND_MAX_HEADERS})",
        )
    auth = received.auth
    if auth is None:
        results = provider_results(received.provider, received.esp_event, head.headers, received.envelope_sender)
        auth = sender_auth(results, from_addresses=head.from_addresses)
    ignored = ignore_reason(head, envelope_sender=received.envelope_sender, spam=received.spam)
    organization = route.organization
    policy = organization.sender_policy
    standing: Standing | None = None
    if check_sender and policy != SenderPolicy.ANYONE:
        standing = sender_standing(organization, head.from_address, allowlist=policy == SenderPolicy.ALLOWLIST)
        if not policy_allows(policy, standing):
            if ignored:
                return decided(Verdict.IGNORED, ignored, auth=auth)
            return decided(
                Verdict.REJECTED,
                "Sender not allowed by the organization's sender policy",
                auth=auth,
                cause=RefusalCause.SENDER_POLICY,
            )
    authenticated = auth.result == AuthResult.PASS or (
        auth.result == AuthResult.UNKNOWN and received.provider in settings.INBOUND_SENDER_AUTH_UNKNOWN_TRUSTED
    )
    state, verdict, reason = (EmailState.IGNORED, Verdict.IGNORED, ignored) if ignored else (EmailState.QUEUED, "", "")
    cause: str = ""
    trusted: TrustedDomain | None = None
    if check_sender and not authenticated:
        if standing is None:
            standing = sender_standing(organization, head.from_address)
        if standing != Standing.STRANGER:
            # Someone may be writing a member's (or an allowed sender's) address, unless an admin
            # trusts the From domain without authentication (a third query, on this path only).
            trusted = trusted_domain_find(organization, auth.from_domain)
        if standing != Standing.STRANGER and trusted is None:
            if ignored:
                return decided(Verdict.IGNORED, f"{ignored}; sender not authenticated", auth=auth)
            state, verdict, reason = EmailState.HELD, Verdict.HELD, _auth_hold_reason(head, auth)
            cause = HoldCause.SENDER_NOT_AUTHENTICATED
    structure = structure_scan(received.raw)
    if structure:
        return decided(Verdict.REJECTED, structure, auth=auth)
    return decided(verdict or Verdict.ACCEPTED, reason, state=state, auth=auth, cause=cause, trusted=trusted)


def _record(
    received: Received, decision: Decision, verdict: str, reason: str, parsed: ParsedEmail | None = None
) -> Outcome:
    """Save the Delivery row of a message that is not stored."""
    route = decision.route
    delivery = delivery_build(
        received=received,
        verdict=verdict,
        reason=reason,
        parsed=parsed or decision.head,
        route=route,
        recipient=decision.candidates[0] if decision.candidates else "",
        auth=decision.auth,
        cause=decision.cause if verdict == decision.verdict else "",
    )
    # Live mail only: a file fed by a command is still on the disk it came from.
    if (
        delivery.cause == RefusalCause.SENDER_POLICY
        and route is not None
        and received.provider not in BACKFILL_PROVIDERS
    ):
        refused_message_keep(delivery=delivery, organization=route.organization, raw=received.raw)
    delivery.save()
    logger.info("Inbound %s from %s: %s (%s)", received.provider, _redact(decision.head.from_address), verdict, reason)
    return Outcome(verdict=verdict, reason=reason, delivery=delivery, organization=delivery.organization)


def delivery_refuse(received: Received, decision: Decision) -> Outcome:
    """Record a decision not to store the message (its Delivery row says why)."""
    assert decision.state is None
    return _record(received, decision, decision.verdict, decision.reason)


def delivery_receive(
    *,
    received: Received,
    organization: Organization | None = None,
    check_sender: bool = True,
    backfill: bool = False,
    enqueue: bool = True,
    decision: Decision | None = None,
    route: Route | None = None,
) -> Outcome:
    """Route, check, dedupe and store one message; every outcome leaves a Delivery row saying why.

    `organization` skips routing (commands name the organization); so does `route`, with its
    project hint. `decision`: what delivery_decide said of this message already (the webhook
    decides from the header block before anymail parses the body). Database errors propagate, so the webhook answers 5xx
    and the provider retries; nothing else should.
    """
    if decision is None:
        decision = delivery_decide(received=received, organization=organization, check_sender=check_sender, route=route)
    if decision.state is None:
        return delivery_refuse(received, decision)
    route = decision.route
    assert route is not None
    message = parse_bytes(received.raw) if received.headers_only else received.message
    # The byte scan reads boundaries as the email package reads ordinary mail; the parsed tree
    # is counted too, so that a message written to slip past the scan is still not stored.
    structure = tree_scan(message)
    if structure:
        return _record(received, decision, Verdict.REJECTED, structure)
    parsed = message_parse(message, head=decision.head)

    schema_name = route.organization.schema_name
    # The organization's tables are named with their schema from here on (events.ingest,
    # inbound.checks), so the connection stays on the public search path: switching it costs
    # a round trip, and another to switch back.
    state, reason, verdict, cause = decision.state, decision.reason, decision.verdict, decision.cause
    looping = False
    if state != EmailState.QUEUED or backfill:
        email_id = email_id_reserve(schema_name)
    else:
        looping, email_id = loop_limit_reached_and_email_id(route.organization, normalize_address(parsed.from_address))
    if looping:
        state, verdict, cause = EmailState.HELD, Verdict.HELD, HoldCause.MAIL_LOOP
        reason = (
            f"{HoldCause.MAIL_LOOP.label}: more than {settings.INBOUND_LOOP_LIMIT} messages from this sender "
            f"in {settings.INBOUND_LOOP_WINDOW_SECONDS // 60} minutes; release it if it is genuine"
        )
    queue = enqueue and state == EmailState.QUEUED
    # The Email names itself to its Delivery row (code) and its task (id) before it is
    # written, so all of them go in one statement: no transaction, one round trip.
    email_code = uuid4()
    delivery = delivery_build(
        received=received,
        verdict=verdict,
        reason=reason,
        parsed=parsed,
        route=route,
        email_code=email_code,
        auth=decision.auth,
        cause=cause,
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
            hold_cause=HoldCause(cause) if state == EmailState.HELD else HoldCause.NONE,
            backfill=backfill,
            pk=email_id,
            code=email_code,
            also=[[delivery], *(task_rows or [])],
            schema_name=schema_name,
            log_message=_log_message(decision, reason),
        )
    except DuplicateEmail:
        reason = "Already received (same Message-ID or provider event)"
        return _record(received, decision, Verdict.DUPLICATE, reason, parsed=parsed)
    if task_rows is None:
        email_enqueue_on_commit(schema_name=schema_name, email_id=email.pk)
    logger.info("Inbound %s stored in %s as %s", received.provider, schema_name, verdict)
    return Outcome(
        verdict=verdict, reason=reason, delivery=delivery, organization=route.organization, email_id=email.pk
    )
