"""Organizations (tenants), their hosts, members, invitations and mail-routing rules.

Everything here lives in the public schema, so schema isolation does not protect it: every
query on these tables from workspace code filters by organization (see access.py).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import connection, models
from django.db.models.functions import Lower
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_creation_fakes_migrations, get_tenant_base_schema, schema_exists


class Plan(models.TextChoices):
    STARTER = "starter", "Starter"
    PROFESSIONAL = "professional", "Professional"
    ENTERPRISE = "enterprise", "Enterprise"


class BillingStatus(models.TextChoices):
    NONE = "none", "No subscription"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"
    UNPAID = "unpaid", "Unpaid"


class SenderPolicy(models.TextChoices):
    MEMBERS = "members", "Members only"
    ALLOWLIST = "allowlist", "Members and the allow-list"
    ANYONE = "anyone", "Anyone"


class AIBudgetAction(models.TextChoices):
    HOLD = "hold", "Hold mail until the next period"
    RULES = "rules", "Continue with the offline rules engine"


class Organization(TenantMixin):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=63, unique=True)
    # dj-stripe needs an email on the subscriber: the billing contact.
    email = models.EmailField(blank=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.STARTER)
    billing_status = models.CharField(max_length=20, choices=BillingStatus.choices, default=BillingStatus.NONE)
    billing_status_changed_at = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    sender_policy = models.CharField(max_length=20, choices=SenderPolicy.choices, default=SenderPolicy.MEMBERS)
    ai_budget_action = models.CharField(max_length=10, choices=AIBudgetAction.choices, default=AIBudgetAction.HOLD)
    overage_enabled = models.BooleanField(default=False)
    # Enterprise limits set by staff; null = the plan's default (unlimited for Enterprise).
    custom_email_limit = models.PositiveIntegerField(null=True, blank=True)
    custom_project_limit = models.PositiveIntegerField(null=True, blank=True)
    custom_ai_budget_usd = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # The schema new organizations are cloned from; never has a domain or members.
    is_template = models.BooleanField(default=False, editable=False)
    is_active = models.BooleanField(default=True)
    # Secret for the organization-wide iCalendar feed; rotating it revokes subscriptions.
    feed_token = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def create_schema(self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1) -> None:
        """Clone the template with our own schema_clone(), without a follow-up `migrate_schemas --fake`.

        organizations.schema_template.schema_clone says why django-tenants' clone function is not used.
        The clone copies the template's django_migrations rows, so the fake migrate adds nothing
        but ~0.5 s of migration-graph loading per organization, and if the template were ever
        behind the code it would record unapplied migrations as applied. Without it, a stale
        clone is just as stale as its template and the next migrate fixes both.
        """
        base = get_tenant_base_schema() if get_creation_fakes_migrations() else None
        if (
            not sync_schema
            or not base
            or not schema_exists(base)
            or (check_if_exists and schema_exists(self.schema_name))
        ):
            super().create_schema(check_if_exists=check_if_exists, sync_schema=sync_schema, verbosity=verbosity)
            return
        from organizations.schema_template import schema_clone

        schema_clone(base, self.schema_name)
        connection.set_schema_to_public()  # type: ignore[attr-defined]

    @property
    def inbound_address(self) -> str:
        return f"{self.slug}@{settings.INBOUND_DOMAIN}"

    @property
    def host(self) -> str:
        return f"{self.slug}.{settings.BASE_DOMAIN}"

    def absolute_url(self, path: str = "/") -> str:
        port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
        return f"{settings.SITE_SCHEME}://{self.host}{port}{path}"


class Domain(DomainMixin):
    def __str__(self) -> str:
        return self.domain


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    digest_enabled = models.BooleanField(default=True)
    # Secret of this member's own calendar feed of every project (empty = none). It goes with the
    # membership: a removed member's feed stops at once, and nobody else's changes.
    feed_token = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org"),
            models.UniqueConstraint(
                fields=["feed_token"], condition=~models.Q(feed_token=""), name="membership_unique_feed_token"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class Invitation(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    # Only a hash of the token is stored; the token itself exists only in the mailed link.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(Lower("email"), "organization", name="invitation_org_email")]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.role})"


class AllowedSender(models.Model):
    """An address (`pm@client.com`) or a whole domain (`@client.com`) allowed to send."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="allowed_senders")
    pattern = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pattern"]
        constraints = [models.UniqueConstraint(fields=["organization", "pattern"], name="allowed_sender_unique")]

    def __str__(self) -> str:
        return self.pattern


class TrustedDomain(models.Model):
    """A From domain whose mail counts as authenticated without SPF, DKIM or DMARC passing (a
    client whose server signs nothing): an admin's decision, recorded with who took it and when
    (docs/security.md, "Trusted domains")."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="trusted_domains")
    domain = models.CharField(max_length=253)  # lower case, without the @
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        constraints = [models.UniqueConstraint(fields=["organization", "domain"], name="trusted_domain_unique")]

    def __str__(self) -> str:
        return self.domain


class InboundAlias(models.Model):
    """An extra inbound address that routes to an organization (e.g. `projects@acme.com`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="inbound_aliases")
    address = models.EmailField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.address
