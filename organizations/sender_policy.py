"""Changes to who may send to a workspace: allowing a sender from its refused mail, and trusting a
From domain without authentication. Each takes the acting user and owns its transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from organizations.models import AllowedSender, Organization, SenderPolicy, TrustedDomain
from organizations.services import allowed_sender_validate

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SenderAllowed:
    pattern: str  # pm@client.com or @client.com
    # The workspace accepted members only: it now accepts members and the allow-list too, or the
    # allow-list would not be read at all.
    policy_widened: bool


@transaction.atomic
def sender_allow(*, organization: Organization, pattern: str, actor: User) -> SenderAllowed:
    """Put an address or @domain on the allow-list, and make the policy read the allow-list."""
    pattern = allowed_sender_validate(pattern)
    AllowedSender.objects.get_or_create(organization=organization, pattern=pattern)
    locked = Organization.objects.select_for_update().get(pk=organization.pk)
    widened = locked.sender_policy == SenderPolicy.MEMBERS
    if widened:
        locked.sender_policy = SenderPolicy.ALLOWLIST
        # save(), not update(): inbound's route cache forgets the organization on post_save.
        locked.save(update_fields=["sender_policy"])
        organization.sender_policy = SenderPolicy.ALLOWLIST
    return SenderAllowed(pattern=pattern, policy_widened=widened)


def trusted_domain_validate(domain: str) -> str:
    """`@Client.Example` → `client.example` (IDNA in its ASCII form, as From domains are compared)."""
    cleaned = domain.strip().lstrip("@").rstrip(".").lower()
    if not cleaned or "." not in cleaned or "@" in cleaned or any(c.isspace() for c in cleaned):
        raise ValidationError(f"'{domain}' is not a domain (write it as client.com).")
    try:
        return cleaned.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValidationError(f"'{domain}' is not a domain (write it as client.com).") from error


@transaction.atomic
def trusted_domain_add(*, organization: Organization, domain: str, actor: User) -> TrustedDomain:
    """Trust mail from `domain` without SPF, DKIM or DMARC passing; the first admin who did it
    stays recorded (trusting it again changes nothing)."""
    trusted, _ = TrustedDomain.objects.get_or_create(
        organization=organization, domain=trusted_domain_validate(domain), defaults={"created_by": actor}
    )
    logger.info("%s trusts %s without authentication (user %s)", organization.slug, trusted.domain, actor.pk)
    return trusted


@transaction.atomic
def trusted_domain_remove(*, organization: Organization, pk: int, actor: User) -> str | None:
    """Stop trusting a domain; returns it, or None when this organization does not trust it."""
    trusted = TrustedDomain.objects.select_for_update().filter(organization=organization, pk=pk).first()
    if trusted is None:
        return None
    trusted.delete()
    logger.info(
        "%s no longer trusts %s without authentication (removed by user %s)",
        organization.slug,
        trusted.domain,
        actor.pk,
    )
    return trusted.domain
