from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse
from django_tenants.utils import get_public_schema_name

from organizations.access import get_membership

# The schema (public or a workspace's) whose host a signed-in session belongs to.
SESSION_SCHEMA_KEY = "_projectr_schema"


class SessionHostMiddleware:
    """A signed-in session is valid only on the host it was signed in on (or handed off to).

    Session cookies are host-only, but the session store is shared by every host, so a cookie
    made on the public host, copied to a workspace host, would sign its bearer in there without
    a hand-off. The schema is written into the session when a request ends signed in; a session
    bound to another schema makes the request anonymous, with a fresh empty session (the stored
    one is left to its own host). A session without a binding (from before this check, or made
    by tests' force_login) is bound the first time it is saved on a host.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return self.get_response(request)
        schema = tenant.schema_name
        if request.user.is_authenticated and request.session.get(SESSION_SCHEMA_KEY, schema) != schema:
            engine = import_module(settings.SESSION_ENGINE)
            request.session = engine.SessionStore()
            request.user = AnonymousUser()
        response = self.get_response(request)
        # After the view: a sign-in or hand-off on this host binds the session it created. Only
        # when the session is being saved anyway (a sign-in always saves it), so binding costs
        # no query.
        session = request.session
        if request.user.is_authenticated and session.modified and session.get(SESSION_SCHEMA_KEY) != schema:
            session[SESSION_SCHEMA_KEY] = schema
        return response


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
