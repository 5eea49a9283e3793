"""The API keys page (Settings → API keys): organization admins create, list and revoke keys."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from api.forms import ApiKeyForm
from api.selectors import api_key_get, api_keys_for
from api.services import ApiKeyLimitReached, api_key_create, api_key_revoke
from organizations.access import WorkspaceRequest, request_organization, workspace_view
from organizations.models import Role


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
def api_keys(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key = api_key_create(
                organization=organization,
                actor=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
            )
            form = ApiKeyForm()
        except ApiKeyLimitReached as error:
            form.add_error(None, str(error))
    keys = list(api_keys_for(organization))
    live = sum(1 for key in keys if key.revoked_at is None)
    limit = settings.API_KEYS_PER_ORGANIZATION
    response = render(
        request,
        "api/keys.html",
        {
            "form": form,
            "new_key": new_key,
            "api_keys": keys,
            "live_keys": live,
            "key_limit": limit,
            "at_key_limit": bool(limit) and live >= limit,
        },
    )
    # The new key is in this page only: keep it out of every cache.
    response["Cache-Control"] = "no-store"
    return response


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def api_key_revoke_view(request: WorkspaceRequest, code: UUID) -> HttpResponse:
    organization = request_organization(request)
    api_key = api_key_revoke(api_key=api_key_get(organization, code), actor=request.user)
    messages.success(request, f"The key “{api_key.name}” is revoked; requests with it now get 401.")
    return redirect("api_keys:list")
