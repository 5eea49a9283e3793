"""The nav's notice of mail that waits for an admin (templates/inbound/_nav_attention.html)."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name

from inbound.selectors import attention_count
from organizations.access import get_membership
from organizations.models import Role


def attention(request: HttpRequest) -> dict[str, Any]:
    """Admins only, and lazily: the one query (inbound.selectors.attention_count) runs only when a
    template shows the nav, never for fragments, the public site, members or viewers."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name() or tenant.is_template:
        return {}
    membership = get_membership(request)
    if membership is None or not membership.has_role(Role.ADMIN):
        return {}
    return {"attention": functools.cache(lambda: attention_count(tenant))}
