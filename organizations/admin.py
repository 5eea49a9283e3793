from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django_tenants.admin import TenantAdminMixin

from organizations import lifecycle, services
from organizations.models import AllowedSender, Domain, InboundAlias, Invitation, Membership, Organization, Role


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class AllowedSenderInline(admin.TabularInline):
    model = AllowedSender
    extra = 0


class InboundAliasInline(admin.TabularInline):
    model = InboundAlias
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "plan", "billing_status", "sender_policy", "is_active", "created_at"]
    list_filter = ["plan", "billing_status", "is_active"]
    search_fields = ["name", "slug", "email"]
    readonly_fields = ["schema_name", "created_at", "inbound_address"]
    inlines = [DomainInline, MembershipInline, AllowedSenderInline, InboundAliasInline]
    actions = ["send_owner_invitation", lifecycle.admin_export_action, lifecycle.admin_delete_action]

    def has_delete_permission(self, request: HttpRequest, obj: Organization | None = None) -> bool:
        # Django's own delete would leave the schema, files and deliveries behind: staff use
        # the "Delete organization and all its data" action (organizations.lifecycle).
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).filter(is_template=False).exclude(schema_name="public")

    def get_readonly_fields(self, request: HttpRequest, obj: Organization | None = None) -> list[str]:
        # The schema name is chosen from the slug at creation and never changes.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return [f for f in fields if f != "schema_name"]
        return [*fields, "slug"]

    def save_model(self, request: HttpRequest, obj: Organization, form: object, change: bool) -> None:
        if not change:
            obj.slug = services.slug_validate(obj.slug)
            obj.schema_name = services.schema_name_for(obj.slug)
        super().save_model(request, obj, form, change)
        if not change:
            Domain.objects.get_or_create(domain=obj.host, defaults={"tenant": obj, "is_primary": True})

    @admin.action(description="(Re)send the owner's invitation")
    def send_owner_invitation(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        for organization in queryset:
            if not organization.email:
                self.message_user(request, f"{organization} has no billing email to invite.", messages.WARNING)
                continue
            try:
                services.invitation_create(
                    organization=organization,
                    email=organization.email,
                    role=Role.OWNER,
                    invited_by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.WARNING)
                continue
            self.message_user(request, f"Invitation sent to {organization.email} for {organization}.")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["email", "organization__name"]
    exclude = ["token_hash"]
    readonly_fields = ["code", "created_at", "sent_at", "accepted_at"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user"]
