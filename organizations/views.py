from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from config.htmx import render_page
from organizations import handoff, selectors, services
from organizations.access import WorkspaceRequest, request_organization, workspace_view
from organizations.forms import AcceptInvitationForm, AllowedSenderForm, InviteForm, RoleForm, SenderPolicyForm
from organizations.models import AllowedSender, Invitation, Membership, Organization, Role

# --- public host -------------------------------------------------------------------------


@login_required
def workspace_list(request: HttpRequest) -> HttpResponse:
    memberships = selectors.workspace_memberships(user=cast(User, request.user))
    return render(request, "organizations/workspace_list.html", {"memberships": memberships})


@login_required
@require_POST
def workspace_open(request: HttpRequest, slug: str) -> HttpResponse:
    membership = selectors.workspace_membership(user=cast(User, request.user), slug=slug)
    if membership is None:
        raise Http404("No workspace here")
    token = handoff.handoff_token_create(user=cast(User, request.user), organization=membership.organization)
    # From BASE_DOMAIN/PUBLIC_PORT (Organization.absolute_url), never the Host header's port.
    return HttpResponseRedirect(membership.organization.absolute_url(f"/handoff/{token}/"))


# --- workspace host ----------------------------------------------------------------------


def handoff_consume(request: HttpRequest, token: str) -> HttpResponse:
    organization = request_organization(request)
    current = request.user.pk if request.user.is_authenticated else None
    try:
        user = handoff.handoff_token_consume(token=token, organization=organization, current_user_id=current)
    except handoff.HandoffError as exc:
        return render(request, "organizations/handoff_error.html", {"error": str(exc)}, status=403)
    if current is None:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("home")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    organization = request_organization(request)
    try:
        invitation = services.invitation_lookup(organization=organization, token=token)
    except services.InvitationError as exc:
        return render(request, "organizations/invitation_error.html", {"error": str(exc)}, status=404)

    if request.user.is_authenticated:
        user = cast(User, request.user)
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=user)
            except services.InvitationError as exc:
                return render(request, "organizations/invitation_error.html", {"error": str(exc)}, status=403)
            messages.success(request, f"Welcome to {organization.name}.")
            return redirect("home")
        return render(request, "organizations/invitation_confirm.html", {"invitation": invitation})

    existing = User.objects.filter(email__iexact=invitation.email).first()
    if existing is not None and existing.has_usable_password():
        login_url = reverse("account_login")
        return redirect(f"{login_url}?next={request.path}")

    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        user = _user_from_invitation(invitation, form)
        try:
            services.invitation_accept(invitation=invitation, user=user)
        except services.InvitationError as exc:
            return render(request, "organizations/invitation_error.html", {"error": str(exc)}, status=403)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {organization.name}.")
        return redirect("home")
    return render(request, "organizations/invitation_accept.html", {"invitation": invitation, "form": form})


@transaction.atomic
def _user_from_invitation(invitation: Invitation, form: AcceptInvitationForm) -> User:
    from allauth.account.models import EmailAddress

    user = User.objects.filter(email__iexact=invitation.email).first() or User(email=invitation.email)
    user.first_name = form.cleaned_data.get("first_name", "")
    user.last_name = form.cleaned_data.get("last_name", "")
    user.set_password(form.cleaned_data["password1"])
    user.save()
    # The invitation link proved the address, so it counts as verified for allauth.
    EmailAddress.objects.update_or_create(
        user=user, email=invitation.email, defaults={"verified": True, "primary": True}
    )
    return user


@workspace_view(Role.VIEWER, write_role=Role.ADMIN)
def settings_page(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    policy_form = SenderPolicyForm(initial={"sender_policy": organization.sender_policy})
    sender_form = AllowedSenderForm()
    if request.method == "POST":
        if "sender_policy" in request.POST:
            policy_form = SenderPolicyForm(request.POST)
            if policy_form.is_valid():
                Organization.objects.filter(pk=organization.pk).update(
                    sender_policy=policy_form.cleaned_data["sender_policy"]
                )
                messages.success(request, "Sender policy saved.")
                return redirect("workspace:settings")
        else:
            sender_form = AllowedSenderForm(request.POST)
            if sender_form.is_valid():
                AllowedSender.objects.get_or_create(
                    organization=organization, pattern=sender_form.cleaned_data["pattern"]
                )
                messages.success(request, f"{sender_form.cleaned_data['pattern']} may now send.")
                return redirect("workspace:settings")
    context = {
        "policy_form": policy_form,
        "sender_form": sender_form,
        "allowed_senders": selectors.allowed_senders(organization=organization),
        "trusted_domains": organization.trusted_domains.select_related("created_by"),
        "aliases": organization.inbound_aliases.all(),
    }
    return render(request, "organizations/settings.html", context)


@workspace_view(Role.ADMIN)
@require_POST
def allowed_sender_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    organization = request_organization(request)
    sender = get_object_or_404(AllowedSender, pk=pk, organization=organization)
    sender.delete()
    messages.success(request, f"{sender.pattern} removed from the allow-list.")
    return redirect("workspace:settings")


@dataclass(frozen=True)
class TeamRow:
    membership: Membership
    is_me: bool
    is_last_owner: bool
    can_change_role: bool
    can_remove: bool


def _team_context(request: WorkspaceRequest, form: InviteForm | None = None) -> dict[str, object]:
    organization = request_organization(request)
    members = selectors.team_members(organization=organization)
    # Re-read from the list: the acting member may just have changed their own role.
    acting = next((m for m in members if m.user_id == request.user.pk), request.membership)
    owner_count = sum(1 for m in members if m.role == Role.OWNER)
    rows = []
    for m in members:
        # The services' own rules decide the controls; the last owner's are not offered either.
        last_owner = m.role == Role.OWNER and owner_count == 1
        rows.append(
            TeamRow(
                membership=m,
                is_me=m.pk == acting.pk,
                is_last_owner=last_owner,
                can_change_role=not last_owner and services.membership_may_change_role(actor=acting, membership=m),
                can_remove=not last_owner and services.membership_may_remove(actor=acting, membership=m),
            )
        )
    return {
        "rows": rows,
        "invitations": selectors.invitations_pending(organization=organization),
        "form": form or InviteForm(),
        "can_manage": acting.has_role(Role.ADMIN),
        "assignable_roles": services.roles_assignable(actor=acting),
        "me": acting,
        "now": timezone.now(),
    }


def _team_response(request: WorkspaceRequest, form: InviteForm | None = None) -> HttpResponse:
    """The team page, or only its #team section when htmx asked (the section carries the messages)."""
    return render_page(request, "organizations/team.html", _team_context(request, form), partial="team")


def _team_done(request: WorkspaceRequest) -> HttpResponse:
    """After a change: the refreshed section for htmx, the usual redirect (POST/redirect/GET) otherwise."""
    return _team_response(request) if request.htmx else redirect("workspace:team")


@workspace_view(Role.VIEWER, write_role=Role.ADMIN)
def team(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    if request.method != "POST":
        return _team_response(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _team_response(request, form)
    try:
        services.invitation_create(
            organization=organization,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.membership,
        )
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
        return _team_done(request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return _team_done(request)
    messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
    return _team_done(request)


@workspace_view(Role.ADMIN)
@require_POST
def member_role(request: WorkspaceRequest, pk: int) -> HttpResponse:
    organization = request_organization(request)
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk, organization=organization)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return _team_done(request)
    try:
        services.membership_set_role(membership=membership, role=form.cleaned_data["role"], actor=request.membership)
        messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return _team_done(request)


@workspace_view(Role.ADMIN)
@require_POST
def member_remove(request: WorkspaceRequest, pk: int) -> HttpResponse:
    organization = request_organization(request)
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk, organization=organization)
    try:
        services.membership_remove(membership=membership, actor=request.membership)
        messages.success(request, f"{membership.user.email} was removed.")
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return _team_done(request)


@workspace_view(Role.ADMIN)
@require_POST
def invitation_resend(request: WorkspaceRequest, code: str) -> HttpResponse:
    organization = request_organization(request)
    invitation = get_object_or_404(
        Invitation, code=code, organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
    )
    services.invitation_resend(invitation=invitation, actor=request.membership)
    messages.success(request, f"Invitation sent again to {invitation.email}.")
    return _team_done(request)


@workspace_view(Role.ADMIN)
@require_POST
def invitation_revoke(request: WorkspaceRequest, code: str) -> HttpResponse:
    organization = request_organization(request)
    invitation = get_object_or_404(Invitation, code=code, organization=organization)
    services.invitation_revoke(invitation=invitation, actor=request.membership)
    messages.success(request, f"Invitation for {invitation.email} revoked.")
    return _team_done(request)


# Every member, viewers included, decides about their own digest: it changes nothing shared.
@workspace_view(Role.VIEWER, write_role=None)
@require_POST
def digest_toggle(request: WorkspaceRequest) -> HttpResponse:
    membership = request.membership
    enabled = request.POST.get("digest_enabled") == "on"
    Membership.objects.filter(pk=membership.pk).update(digest_enabled=enabled)
    membership.digest_enabled = enabled
    messages.success(
        request, "You will get the daily digest." if enabled else "You will no longer get the daily digest."
    )
    return _team_done(request)


# Every member, viewers included, manages their own feed address: it changes nothing shared.
@workspace_view(Role.VIEWER, write_role=None)
@require_POST
def member_feed(request: WorkspaceRequest) -> HttpResponse:
    revoke = request.POST.get("action") == "revoke"
    services.membership_feed_rotate(membership=request.membership, revoke=revoke)
    messages.success(request, "Your calendar feed revoked." if revoke else "New address for your calendar feed.")
    return redirect(reverse("projects:list") + "#calendar")
