"""The 403, 404 and 500 pages, in the app's own layout with a way back (both URLconfs name them:
handler403/404/500 in config/urls_tenant.py and config/urls_public.py).

- 403 (a role too low, raised by organizations.access) keeps the workspace's navigation, says
  which role the page needs, and links back to the agenda.
- 404 keeps the navigation only for members: to everyone else the workspace does not exist
  (organizations.access), so the page shows neither its name nor its links.
- 500 says nothing about the error and renders without the request's context processors, which
  read the database that may be why it failed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token
from django_tenants.utils import get_public_schema_name

from organizations.access import get_membership

# The context processors' workspace keys, blanked where the page must not show the workspace.
NO_WORKSPACE: dict[str, Any] = {"is_workspace": False, "organization": None, "membership": None, "banners": []}


def _public_url(path: str) -> str:
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}{path}"


def _context(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    member = (
        tenant is not None
        and tenant.schema_name != get_public_schema_name()
        and not tenant.is_template
        and tenant.is_active
        and get_membership(request) is not None
    )
    return {
        **({} if member else NO_WORKSPACE),
        "member": member,
        "workspaces_url": _public_url("/workspaces/"),
    }


def _render(request: HttpRequest, template: str, status: int, **extra: Any) -> HttpResponse:
    body = loader.get_template(template).render({**_context(request), **extra}, request)
    return HttpResponse(body, status=status)


@requires_csrf_token
def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Only our own access helpers' reasons are shown ("This needs the admin role or higher.").
    reason = str(exception) if exception is not None and str(exception).startswith("This needs") else ""
    return _render(request, "403.html", 403, reason=reason)


@requires_csrf_token
def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, "404.html", 404)


@requires_csrf_token
def error_500(request: HttpRequest) -> HttpResponse:
    body = loader.get_template("500.html").render({**NO_WORKSPACE, "workspaces_url": _public_url("/workspaces/")})
    return HttpResponseServerError(body)
