from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django_tenants.utils import get_public_schema_name

from organizations.access import get_membership

# Paths a signed-in non-member may still reach on a workspace host: signing out, switching
# account, accepting an invitation, or being handed off from the public host.
OPEN_PREFIXES = ("/accounts/", "/invite/", "/handoff/", "/static/", "/feeds/")


class WorkspaceAccessMiddleware:
    """On workspace hosts, a signed-in user who is not a member sees nothing (404).

    Views still check roles themselves (organizations.access.workspace_view); this is the
    backstop for any view that forgets, and it hides the template schema entirely.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.schema_name != get_public_schema_name():
            if tenant.is_template or not tenant.is_active:
                raise Http404("No workspace here")
            if (
                request.user.is_authenticated
                and not request.path.startswith(OPEN_PREFIXES)
                and get_membership(request) is None
            ):
                raise Http404("No workspace here")
        return self.get_response(request)
