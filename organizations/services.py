"""Organization services: onboarding, invitations, membership changes. They own their transactions.

The team's services take the acting member (`actor`) and apply the team's rules themselves
(admins manage the team, only an owner touches the owner role, nobody removes themselves, the last
owner stays), so a view, the admin or a script cannot forget one; `NotAllowed` says which."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.test.utils import override_settings
from django.utils import timezone
from django_q.tasks import async_task
from django_tenants.utils import get_public_schema_name

from organizations.models import (
    AllowedSender,
    Domain,
    Invitation,
    Membership,
    Organization,
    Plan,
    Role,
    SenderPolicy,
)
from organizations.schema_template import template_schema_build
from organizations.schemas import use_public_schema
from organizations.selectors import member_address_is

if TYPE_CHECKING:
    from accounts.models import User

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
INVITATION_TTL = timedelta(days=7)


class NotAllowed(PermissionDenied):
    """The acting member may not do this; the message says why, for that member."""


def _denied_to_manage(actor: Membership, organization_id: int) -> str:
    if actor.organization_id != organization_id or not actor.has_role(Role.ADMIN):
        return "Only an admin or owner can manage the team."
    return ""


def _role_change_denied(actor: Membership, membership: Membership, role: str | None = None) -> str:
    """Why `actor` may not change `membership`'s role (to `role`; None: to any role), or ""."""
    if denied := _denied_to_manage(actor, membership.organization_id):
        return denied
    if Role.OWNER in (membership.role, role) and not actor.has_role(Role.OWNER):
        return "Only an owner can make someone owner or change an owner's role."
    return ""


def _removal_denied(actor: Membership, membership: Membership) -> str:
    """Why `actor` may not remove `membership`, or ""."""
    if denied := _denied_to_manage(actor, membership.organization_id):
        return denied
    if membership.role == Role.OWNER and not actor.has_role(Role.OWNER):
        return "Only an owner can remove an owner."
    if membership.pk == actor.pk:
        return "You cannot remove yourself; ask another admin."
    return ""


def membership_may_change_role(*, actor: Membership, membership: Membership) -> bool:
    """Whether the team page offers `actor` a role change for `membership` (the last owner's is
    refused later, by membership_set_role)."""
    return not _role_change_denied(actor, membership)


def membership_may_remove(*, actor: Membership, membership: Membership) -> bool:
    return not _removal_denied(actor, membership)


def roles_assignable(*, actor: Membership) -> list[tuple[str, str]]:
    """The roles `actor` may hand out, by a role change or an invitation (owner: only an owner's)."""
    return [(value, label) for value, label in Role.choices if value != Role.OWNER or actor.has_role(Role.OWNER)]


class OnboardingError(Exception):
    """Input that cannot become an organization; the message is meant for the operator."""


def slug_validate(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise OnboardingError(
            f"'{slug}' is not a valid slug: use 1-63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )
    if slug in settings.RESERVED_SLUGS:
        raise OnboardingError(f"'{slug}' is reserved and cannot name an organization.")
    return slug


def allowed_sender_validate(pattern: str) -> str:
    pattern = pattern.strip().lower()
    if pattern.startswith("@"):
        domain = pattern[1:]
        if not domain or "." not in domain or "@" in domain or " " in domain:
            raise ValidationError(f"'{pattern}' is not a domain (write it as @example.com).")
        return pattern
    if pattern.count("@") != 1 or " " in pattern or not pattern.split("@")[0] or "." not in pattern.split("@")[1]:
        raise ValidationError(f"'{pattern}' is not an email address or @domain.")
    return pattern


def schema_name_for(slug: str) -> str:
    return "org_" + slug.replace("-", "_")


def platform_ensure() -> tuple[Organization, Organization]:
    """The public tenant with its hosts, and the template schema new organizations are cloned from."""
    use_public_schema()
    public, _ = Organization.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"name": "Projectr", "slug": "public-site"},
    )
    for host in {settings.BASE_DOMAIN, "127.0.0.1"}:
        Domain.objects.get_or_create(
            domain=host, defaults={"tenant": public, "is_primary": host == settings.BASE_DOMAIN}
        )
    template = Organization.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).first()
    if template is None:
        template = Organization(
            schema_name=settings.TENANT_BASE_SCHEMA, name="Template", slug="tenant-template", is_template=True
        )
        template.auto_create_schema = False
        template.save()
        template_schema_build(template.schema_name)
    return public, template


@dataclass
class OnboardingResult:
    organization: Organization
    created: bool
    invitation: Invitation | None
    invitation_url: str | None


def organization_create(
    *,
    name: str,
    slug: str,
    owner_email: str,
    plan: str = Plan.STARTER,
    sender_policy: str = SenderPolicy.MEMBERS,
    allowed_senders: list[str] | tuple[str, ...] = (),
    update: bool = False,
    send_invitation: bool = True,
    clone: bool = True,
) -> OnboardingResult:
    slug = slug_validate(slug)
    if plan not in Plan.values:
        raise OnboardingError(f"Unknown plan '{plan}': choose one of {', '.join(Plan.values)}.")
    if sender_policy not in SenderPolicy.values:
        raise OnboardingError(
            f"Unknown sender policy '{sender_policy}': choose one of {', '.join(SenderPolicy.values)}."
        )
    owner_email = owner_email.strip().lower()
    if "@" not in owner_email:
        raise OnboardingError(f"'{owner_email}' is not an email address.")
    try:
        patterns = [allowed_sender_validate(p) for p in allowed_senders]
    except ValidationError as exc:
        raise OnboardingError(exc.messages[0]) from exc

    use_public_schema()
    organization = Organization.objects.filter(slug=slug).first()
    if organization is not None and not update:
        raise OnboardingError(f"The slug '{slug}' is taken by '{organization.name}'. Use --update to change it.")
    created = organization is None
    if organization is None:
        organization = Organization(
            schema_name=schema_name_for(slug),
            slug=slug,
            name=name,
            email=owner_email,
            plan=plan,
            sender_policy=sender_policy,
        )
        if settings.BILLING_TRIAL_DAYS and plan == Plan.STARTER:
            organization.trial_ends_at = timezone.now() + timedelta(days=settings.BILLING_TRIAL_DAYS)
        if clone:
            # Saving creates the schema by cloning the template (TENANT_BASE_SCHEMA).
            organization.save()
        else:
            # The slow path, kept for benchmarks and for proving the clone equals it.
            with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
                organization.save()
    else:
        organization.name = name
        organization.plan = plan
        organization.sender_policy = sender_policy
        organization.save(update_fields=["name", "plan", "sender_policy"])

    with transaction.atomic():
        Domain.objects.get_or_create(domain=organization.host, defaults={"tenant": organization, "is_primary": True})
        for pattern in patterns:
            AllowedSender.objects.get_or_create(organization=organization, pattern=pattern)
        invitation = None
        url = None
        # Idempotent: no new invitation while there is an owner or a pending owner invitation.
        has_owner = Membership.objects.filter(organization=organization, role=Role.OWNER).exists()
        pending = Invitation.objects.filter(
            organization=organization,
            role=Role.OWNER,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).exists()
        if not has_owner and not pending:
            invitation, token = invitation_create(
                organization=organization, email=owner_email, role=Role.OWNER, invited_by=None, send=send_invitation
            )
            # A mailed invitation's link is minted by the worker as it mails it (invitation_send).
            url = None if send_invitation else invitation_url(organization, token)
    return OnboardingResult(organization=organization, created=created, invitation=invitation, invitation_url=url)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(organization: Organization, token: str) -> str:
    # From BASE_DOMAIN/PUBLIC_PORT, never from the inviting request's Host header (whose port
    # the visitor writes).
    return organization.absolute_url(f"/invite/{token}/")


def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: str,
    actor: Membership | None = None,
    invited_by: User | None = None,
    send: bool = True,
) -> tuple[Invitation, str]:
    """Invite `email` with `role`. `actor` is the member inviting, held to the team's rules (only an
    owner invites an owner); None is the platform: onboarding, or staff in the admin (`invited_by`
    then says which staff member, if any)."""
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError(f"Unknown role '{role}'.")
    if actor is not None:
        if denied := _denied_to_manage(actor, organization.pk):
            raise NotAllowed(denied)
        if role == Role.OWNER and not actor.has_role(Role.OWNER):
            raise NotAllowed("Only an owner can invite an owner.")
        invited_by = actor.user
    if member_address_is(organization=organization, address=email):
        raise ValidationError(f"{email} is already a member of {organization.name}; change their role instead.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # A new invitation replaces any pending one for the same address.
        Invitation.objects.filter(
            organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            token_hash=_token_hash(token),
            invited_by=invited_by,
            expires_at=timezone.now() + INVITATION_TTL,
        )
        if send:
            transaction.on_commit(lambda: invitation_send_enqueue(invitation=invitation))
    return invitation, token


def invitation_resend(*, invitation: Invitation, actor: Membership) -> None:
    """Retire the link now (a token nobody has), extend the expiry, and have the worker mail a new one."""
    if denied := _denied_to_manage(actor, invitation.organization_id):
        raise NotAllowed(denied)
    invitation.token_hash = _token_hash(secrets.token_urlsafe(32))
    invitation.expires_at = timezone.now() + INVITATION_TTL
    invitation.save(update_fields=["token_hash", "expires_at"])
    transaction.on_commit(lambda: invitation_send_enqueue(invitation=invitation))


INVITATION_SEND_TASK = "organizations.tasks.invitation_send_task"


def invitation_send_enqueue(*, invitation: Invitation) -> None:
    """Mail the invitation from the worker: the mail server can take seconds, which the request
    that invited someone must not wait for (~2 s). The task carries the invitation's id,
    never its link: the token is minted where the mail is written (invitation_send), so it is not
    kept in the task queue's tables either."""
    async_task(INVITATION_SEND_TASK, invitation.pk, group="invitation")


def invitation_revoke(*, invitation: Invitation, actor: Membership) -> None:
    if denied := _denied_to_manage(actor, invitation.organization_id):
        raise NotAllowed(denied)
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def invitation_send(*, invitation: Invitation) -> None:
    """Mint a new link and mail it (the worker's half of invitation_send_enqueue); any earlier
    link stops working. If the mail server refuses, the transaction rolls the new token back and
    the task's retry tries again."""
    token = secrets.token_urlsafe(32)
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=_token_hash(token))
    url = invitation_url(invitation.organization, token)
    context = {"invitation": invitation, "organization": invitation.organization, "url": url}
    send_mail(
        subject=f"You're invited to {invitation.organization.name} on Projectr",
        message=render_to_string("organizations/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())


class InvitationError(Exception):
    pass


def invitation_lookup(*, organization: Organization, token: str) -> Invitation:
    invitation = Invitation.objects.filter(organization=organization, token_hash=_token_hash(token)).first()
    if invitation is None or invitation.revoked_at is not None:
        raise InvitationError("This invitation link is not valid. Ask an admin of the workspace for a new one.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation was already used. Sign in instead.")
    if invitation.expires_at < timezone.now():
        raise InvitationError("This invitation has expired. Ask an admin of the workspace for a new one.")
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    if user.email.lower() != invitation.email.lower():
        raise InvitationError(f"This invitation is for {invitation.email}; you are signed in as {user.email}.")
    # Claim the invitation with a filtered update so a link can only be used once, even concurrently.
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        accepted_at=timezone.now()
    )
    if not claimed:
        raise InvitationError("This invitation was already used. Sign in instead.")
    membership, created = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    if not created and Role(invitation.role) != Role(membership.role):
        membership.role = invitation.role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor: Membership) -> Membership:
    if role not in Role.values:
        raise ValidationError(f"Unknown role '{role}'.")
    if denied := _role_change_denied(actor, membership, role):
        raise NotAllowed(denied)
    if membership.role == Role.OWNER and role != Role.OWNER:
        _ensure_another_owner(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Membership) -> None:
    """The member goes, and with them their own calendar feed (the token is on the membership).
    Every shared feed address they could have copied changes, so none of them keeps working for
    them: the organization-wide one and each project's (organizations.receivers, `membership_removed`);
    members who stay see the new addresses on the projects page and in each project's settings."""
    if denied := _removal_denied(actor, membership):
        raise NotAllowed(denied)
    if membership.role == Role.OWNER:
        _ensure_another_owner(membership)
    # Deleting it rotates every shared feed address (organizations.receivers), in this transaction.
    membership.delete()


def feed_token_new() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def membership_feed_rotate(*, membership: Membership, revoke: bool = False) -> Membership:
    """Create or regenerate a member's own calendar feed secret (or revoke it); the old address
    stops working at once."""
    membership.feed_token = "" if revoke else feed_token_new()
    membership.save(update_fields=["feed_token"])
    return membership


def _ensure_another_owner(membership: Membership) -> None:
    owners = (
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
    )
    if not owners.exists():
        raise ValidationError("An organization always keeps one owner: make someone else owner first.")
