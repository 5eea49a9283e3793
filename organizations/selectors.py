"""Reads of organizations, members, invitations and allowed senders, for views and other apps.
Public-schema reads made for a workspace always take the organization (docs/architecture.md
"Tenancy"): schema isolation does not filter them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.db.models.functions import Lower

from organizations.models import AllowedSender, Invitation, Membership, Organization

if TYPE_CHECKING:
    from accounts.models import User


def workspace_memberships(*, user: User) -> QuerySet[Membership]:
    """The user's memberships of active organizations, by organization name (the workspace list)."""
    return (
        Membership.objects.filter(user=user, organization__is_active=True)
        .select_related("organization")
        .order_by("organization__name")
    )


def workspace_membership(*, user: User, slug: str) -> Membership | None:
    """The user's membership of the active organization `slug`, if any."""
    return workspace_memberships(user=user).filter(organization__slug=slug).first()


def team_members(*, organization: Organization) -> list[Membership]:
    return list(Membership.objects.filter(organization=organization).select_related("user").order_by("user__email"))


def invitations_pending(*, organization: Organization) -> QuerySet[Invitation]:
    """Invitations not yet accepted or revoked (expired ones included: admins resend them), newest
    first; an address that became a member some other way (staff, another invitation) is left out."""
    member_emails = Membership.objects.filter(organization=organization).values(lowered=Lower("user__email"))
    return (
        Invitation.objects.filter(organization=organization, accepted_at__isnull=True, revoked_at__isnull=True)
        .exclude(email__in=member_emails)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def allowed_senders(*, organization: Organization) -> QuerySet[AllowedSender]:
    return AllowedSender.objects.filter(organization=organization)


def member_address_is(*, organization: Organization, address: str) -> bool:
    """Whether `address` is a member's sign-in address (case-insensitively)."""
    return Membership.objects.filter(organization=organization, user__email__iexact=address).exists()


def member_feed_token_is(*, organization: Organization, token: str) -> bool:
    """Whether `token` is an active member's own calendar feed secret (Membership.feed_token)."""
    return Membership.objects.filter(organization=organization, feed_token=token, user__is_active=True).exists()


def member_emails(*, organization_id: int) -> list[str]:
    return list(Membership.objects.filter(organization_id=organization_id).values_list("user__email", flat=True))
