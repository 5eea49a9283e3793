"""Settings → Who may send: the trusted domains an admin can take back (organizations.sender_policy)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from organizations.access import WorkspaceRequest, request_organization, workspace_view
from organizations.models import Role
from organizations.sender_policy import trusted_domain_remove


# The access check comes first, so strangers learn nothing from a 405.
@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def trusted_domain_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    organization = request_organization(request)
    domain = trusted_domain_remove(organization=organization, pk=pk, actor=request.user)
    if domain is None:
        raise Http404("No such trusted domain")
    messages.success(request, f"{domain} is no longer trusted: its mail must pass SPF, DKIM or DMARC again.")
    return redirect("workspace:settings")
