from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name

from organizations.access import get_membership


def workspace(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    is_workspace = tenant is not None and tenant.schema_name != get_public_schema_name() and not tenant.is_template
    membership = get_membership(request) if is_workspace else None
    return {
        "is_workspace": is_workspace,
        "organization": tenant if is_workspace else None,
        "membership": membership,
        "base_domain": settings.BASE_DOMAIN,
    }
