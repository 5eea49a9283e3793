"""Worker tasks of organizations (public schema: invitations live there, no tenant context)."""

from __future__ import annotations

from organizations.models import Invitation
from organizations.services import invitation_send


def invitation_send_task(invitation_id: int, base_url: str | None = None) -> None:
    """Mail an invitation, unless it was accepted or revoked while the task waited.

    `base_url` is ignored: tasks queued by an earlier release carry the inviting request's
    host, and the link now always comes from BASE_DOMAIN/PUBLIC_PORT."""
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is not None:
        invitation_send(invitation=invitation)
