"""What an admin does with mail that waits for a person (docs/security.md, docs/inbound.md):

- held mail (events.models.HoldCause): release it, processed then as the sender's mail, or delete it;
- a sender that is not authenticated but genuine: trust its From domain without authentication
  (organizations.sender_policy), so its next messages are not held;
- refused mail (RefusalCause.SENDER_POLICY, kept by inbound.kept): allow the sender or its domain,
  then bring the kept message in through the ordinary path (delivery_receive), exactly once.

Each service takes the acting user and the organization it acts for, and checks that the row
is that organization's; the views check the role (admins).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django_tenants.utils import schema_context

from events.enqueue import email_enqueue_on_commit
from events.ingest import head_bytes, parse_bytes
from events.models import Email, EmailLog, EmailState, HoldCause
from events.processing import emails_requeue
from inbound.authentication import AuthResult, SenderAuth
from inbound.checks import sender_allowed
from inbound.kept import kept_message_drop, kept_message_read
from inbound.models import Delivery, RefusalCause, Verdict
from inbound.routing import route_for
from inbound.services import Outcome, Received, delivery_receive
from organizations.models import Organization
from organizations.schemas import storage_schema

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


class ReviewError(Exception):
    """An action that cannot be done now; the message is meant for the admin."""


# --- held mail -----------------------------------------------------------------------------------


def held_email_release(*, organization: Organization, code: UUID | str, actor: User) -> bool:
    """Held → queued, processed as any other mail of the organization: False when it is not held
    (released already, deleted, or never held). The log says who released it and why it was held."""
    with schema_context(organization.schema_name), transaction.atomic():
        held = Email.objects.select_for_update().filter(code=code, state=EmailState.HELD).values("pk", "hold_cause")
        row = held.first()
        if row is None:
            return False
        emails_requeue(email_ids=[row["pk"]])
        cause = HoldCause(row["hold_cause"]).label if row["hold_cause"] else "held"
        EmailLog.objects.create(
            email_id=row["pk"], state=EmailState.QUEUED, message=f"Released by {actor.email} ({cause})"
        )
        email_enqueue_on_commit(schema_name=organization.schema_name, email_id=row["pk"])
    logger.info("Held email %s of %s released by user %s", row["pk"], organization.schema_name, actor.pk)
    return True


def held_email_delete(*, organization: Organization, code: UUID | str, actor: User) -> bool:
    """Delete a held email with its files; its Delivery row stays, as the log of what arrived.
    False when it is not held."""
    with schema_context(organization.schema_name), transaction.atomic():
        email = Email.objects.select_for_update().filter(code=code, state=EmailState.HELD).first()
        if email is None:
            return False
        files = [email.raw, *(attachment.file for attachment in email.attachments.all())]
        email.delete()
        transaction.on_commit(lambda: _files_delete(organization, files))
    logger.info("Held email %s of %s deleted by user %s", email.code, organization.schema_name, actor.pk)
    return True


def _files_delete(organization: Organization, files: list[FieldFile]) -> None:
    with storage_schema(organization.schema_name):
        for stored in files:
            if stored:
                stored.delete(save=False)


# --- refused mail --------------------------------------------------------------------------------


def refused_delivery(*, organization: Organization, pk: int) -> Delivery | None:
    """A refused delivery of this organization whose message is kept and not brought in yet."""
    return (
        Delivery.objects.filter(organization=organization, pk=pk, cause=RefusalCause.SENDER_POLICY)
        .exclude(kept="")
        .filter(brought_in_at__isnull=True)
        .first()
    )


def refused_pattern(delivery: Delivery, *, whole_domain: bool) -> str:
    """`pm@client.com`, or `@client.com` for the whole domain."""
    address = delivery.sender.lower()
    return "@" + address.rpartition("@")[2] if whole_domain else address


def sender_may_send(organization: Organization, delivery: Delivery) -> bool:
    """Would the policy accept this refused message's sender now?"""
    return sender_allowed(organization, delivery.sender)


@dataclass(frozen=True)
class BroughtIn:
    outcome: Outcome

    @property
    def stored(self) -> bool:
        return self.outcome.stored


def _recorded_auth(delivery: Delivery) -> SenderAuth:
    """The sender verdict the delivery recorded on arrival; the provider's payload is gone."""
    result = AuthResult(delivery.authentication) if delivery.authentication else AuthResult.UNKNOWN
    from_domain = delivery.sender.rpartition("@")[2]
    return SenderAuth(result, from_domain, delivery.authentication_detail, recorded=delivery.authentication_detail)


_STATE_OF: dict[str, str] = {Verdict.HELD: EmailState.HELD, Verdict.IGNORED: EmailState.IGNORED}


def refused_message_bring_in(*, organization: Organization, pk: int, actor: User) -> BroughtIn:
    """Bring a kept refused message in through delivery_receive, as if it arrived now from an
    allowed sender (its sender verdict as recorded then, the loop limit and the dedupe as
    usual). Exactly once: the claim is a filtered UPDATE of the refused row, in the same
    transaction as the message's storing, and the Email's unique Message-ID stands behind it.
    ReviewError when the message is gone (brought in, purged) or its sender is still not allowed."""
    organization = Organization.objects.get(pk=organization.pk)  # its policy as it is now
    delivery = refused_delivery(organization=organization, pk=pk)
    if delivery is None:
        raise ReviewError("That message is no longer kept: it was brought in already or its time ran out.")
    if not sender_allowed(organization, delivery.sender):
        raise ReviewError(f"{delivery.sender} may not send yet: allow the sender or its domain first.")
    raw = kept_message_read(delivery, organization)
    with transaction.atomic():
        claimed = (
            Delivery.objects.filter(pk=delivery.pk, brought_in_at__isnull=True)
            .exclude(kept="")
            .update(brought_in_at=timezone.now(), brought_in_by=actor)
        )
        if not claimed:
            raise ReviewError("That message was brought in already.")
        received = Received(
            provider=delivery.provider,
            message=parse_bytes(head_bytes(raw)),
            raw=raw,
            event_id=delivery.event_id,
            envelope_recipient=delivery.recipient,
            received_at=delivery.created_at,
            headers_only=True,
            auth=_recorded_auth(delivery),
        )
        outcome = delivery_receive(received=received, route=route_for(organization, delivery.recipient))
        email_code = outcome.delivery.email_code
        Delivery.objects.filter(pk=delivery.pk).update(email_code=email_code)
        if outcome.email_id is not None:
            with schema_context(organization.schema_name):
                EmailLog.objects.create(
                    email_id=outcome.email_id,
                    state=_STATE_OF.get(outcome.verdict, EmailState.QUEUED),
                    message=f"Brought in from refused mail by {actor.email}",
                )
    kept_message_drop(delivery, organization)
    logger.info(
        "Refused delivery %s of %s brought in by user %s: %s", pk, organization.schema_name, actor.pk, outcome.verdict
    )
    return BroughtIn(outcome=outcome)
