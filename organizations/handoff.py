"""Signed, single-use, short-lived tokens that carry a sign-in from the public host to a workspace.

Session cookies are host-only (see settings), so signing in on `localhost` does not sign
you in on `acme.localhost`. The public host mints a token naming the user and the
organization; the workspace host checks signature, age, organization, membership and that
the nonce was never used, then logs the user in there.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache

from organizations.models import Membership, Organization

if TYPE_CHECKING:
    from accounts.models import User

SALT = "projectr.handoff"


class HandoffError(Exception):
    """The token cannot sign anyone in; the message says why (shown to the user)."""


def handoff_token_create(*, user: User, organization: Organization) -> str:
    payload = {"u": user.pk, "o": organization.pk, "n": secrets.token_urlsafe(16)}
    return signing.dumps(payload, salt=SALT, compress=True)


def handoff_token_consume(*, token: str, organization: Organization, current_user_id: int | None) -> User:
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.HANDOFF_TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise HandoffError("This sign-in link has expired. Open the workspace again from your list.") from exc
    except signing.BadSignature as exc:
        raise HandoffError("This sign-in link is not valid.") from exc
    if payload.get("o") != organization.pk:
        raise HandoffError("This sign-in link is for another workspace.")
    if current_user_id is not None and current_user_id != payload.get("u"):
        raise HandoffError("You are signed in here as someone else. Sign out first.")
    # cache.add is atomic on every backend we use: only the first use of a nonce succeeds.
    if not cache.add(f"handoff-used:{payload['n']}", 1, timeout=settings.HANDOFF_TOKEN_MAX_AGE * 2):
        raise HandoffError("This sign-in link was already used.")
    user = get_user_model().objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or not Membership.objects.filter(user=user, organization=organization).exists():
        raise HandoffError("You are not a member of this workspace.")
    return user  # type: ignore[return-value]
