"""Creating and revoking API keys. Each service owns its transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import ApiKey, ApiKeyScope
from organizations.models import Organization

if TYPE_CHECKING:
    from accounts.models import User

KEY_PREFIX = "prj_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyLimitReached(Exception):
    """The organization already has API_KEYS_PER_ORGANIZATION live keys."""


def api_key_limit_message(limit: int) -> str:
    return (
        f"This workspace already has {limit} live API keys, the most it may have. "
        "Revoke one you no longer use to create another."
    )


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


@transaction.atomic
def api_key_create(*, organization: Organization, actor: User | None, name: str, scope: str) -> NewApiKey:
    # The organization's row is locked first, so two admins creating the last allowed key at
    # once cannot both pass the count. Every key of an organization shares its request limit
    # (api.auth), and the cap keeps that limit's share per key meaningful.
    Organization.objects.select_for_update().filter(pk=organization.pk).values_list("pk").first()
    limit = settings.API_KEYS_PER_ORGANIZATION
    if limit and ApiKey.objects.filter(organization=organization, revoked_at__isnull=True).count() >= limit:
        raise ApiKeyLimitReached(api_key_limit_message(limit))
    # 32 random bytes (256 bits): guessing is hopeless, so a fast hash is the right hash.
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        organization=organization,
        name=name.strip(),
        prefix=secret[:PREFIX_LENGTH],
        key_hash=api_key_hash(secret),
        scope=ApiKeyScope(scope),
        created_by=actor,
    )
    api_key.full_clean()
    api_key.save()
    return NewApiKey(api_key=api_key, secret=secret)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: User | None) -> ApiKey:
    """Revoke at once; the next request with the key gets 401. Revoking twice is a no-op."""
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=actor)
    api_key.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return api_key
