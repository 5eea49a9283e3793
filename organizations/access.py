"""Access helpers: the one place that decides who may see and change a workspace.

Every workspace view starts with `workspace_view(role)`. Non-members get 404 (the
workspace does not exist for them), members whose role is too low get 403. Public-schema
queries made on behalf of a workspace go through `for_organization()` so they can never
return another organization's rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import resolve, reverse
from django_tenants.utils import get_public_schema_name

from config.htmx import HtmxRequest
from organizations.models import Membership, Organization, Role

if TYPE_CHECKING:
    from accounts.models import User

M = TypeVar("M", bound=Model)
View = Callable[..., HttpResponse]


class WorkspaceRequest(HtmxRequest):
    """A request on a workspace host by a signed-in member, as `workspace_view` hands it to its
    view (for type checkers): every workspace view takes one."""

    tenant: Organization
    user: User
    membership: Membership


def request_organization(request: HttpRequest) -> Organization:
    """The organization of a workspace request (dj-stripe's subscriber callback)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name() or tenant.is_template:
        raise Http404("No workspace here")
    return cast(Organization, tenant)


def get_membership(request: HttpRequest) -> Membership | None:
    if not request.user.is_authenticated:
        return None
    cached = getattr(request, "_membership_cache", False)
    if cached is not False:
        return cast(Membership | None, cached)
    organization = request_organization(request)
    membership = Membership.objects.select_related("user").filter(organization=organization, user=request.user).first()
    request._membership_cache = membership  # type: ignore[attr-defined]
    return membership


def require_role(request: HttpRequest, role: str = Role.VIEWER) -> Membership:
    membership = get_membership(request)
    if membership is None:
        raise Http404("No workspace here")
    if not membership.has_role(role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role or higher.")
    return membership


def workspace_view(role: str = Role.VIEWER, *, write_role: str | None = Role.MEMBER) -> Callable[[View], View]:
    """Guard a workspace view.

    `role` is needed for any request; `write_role` additionally for unsafe methods (POST,
    PUT, PATCH, DELETE), so a viewer can open a page but never change anything through it.
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request_organization(request)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            needed = role
            if write_role and request.method not in ("GET", "HEAD", "OPTIONS"):
                needed = max((role, write_role), key=_rank)
            cast(WorkspaceRequest, request).membership = require_role(request, needed)
            return view(request, *args, **kwargs)

        # Read by may_use(): a link or button is shown by the same rule the view enforces.
        wrapper.workspace_roles = (role, write_role)  # type: ignore[attr-defined]
        return wrapper

    return decorator


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def may_use(request: HttpRequest, url_name: str, *args: Any, method: str = "GET") -> bool:
    """Whether the signed-in member may use the page (GET) or action (POST) at `url_name`.

    The answer is read from the target view's own `workspace_view` guard, so templates hide
    exactly the links and buttons that would answer 403, without a second copy of the rules
    (the `{% may %}` tag, organizations.templatetags.workspace_access). Rules about one object
    beyond the role (the last owner, an owner's role) are the services' own: they take the
    acting member (organizations.services).
    """
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name() or tenant.is_template:
        return False
    membership = get_membership(request)
    if membership is None:
        return False
    match = resolve(reverse(url_name, args=args), urlconf=getattr(request, "urlconf", None))
    roles = getattr(match.func, "workspace_roles", None)
    if roles is None:  # not a workspace page (sign-out, token feeds): open to every member
        return True
    role, write_role = roles
    needed = role
    if write_role and method.upper() not in SAFE_METHODS:
        needed = max((role, write_role), key=_rank)
    return membership.has_role(needed)


def _rank(role: str) -> int:
    from organizations.models import ROLE_RANK

    return ROLE_RANK[Role(role)]


def for_organization(queryset: QuerySet[M], organization: Organization) -> QuerySet[M]:
    """Filter a public-schema queryset to one organization (the only way workspace code reads them)."""
    return queryset.filter(organization=organization)
