"""The nav's "Unfiled N" (templates/events/_nav_unfiled.html)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name

from events.selectors import unfiled_count
from organizations.access import get_membership


def unfiled(request: HttpRequest) -> dict[str, Any]:
    """A callable, so the COUNT (on the partial index email_unfiled) runs only when a template
    shows the nav, and not at all for fragments, the public site or non-members."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name() or tenant.is_template:
        return {}
    if get_membership(request) is None:
        return {}
    return {"unfiled_count": unfiled_count}
