"""Reads of API keys. Public schema: always for one organization (organizations.access.for_organization)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from api.models import ApiKey
from organizations.access import for_organization
from organizations.models import Organization


def api_keys_for(organization: Organization) -> QuerySet[ApiKey]:
    """Live keys first, newest first; revoked ones stay listed so people can see what was cut off."""
    return for_organization(ApiKey.objects.select_related("created_by", "revoked_by"), organization).order_by(
        "revoked_at", "-created_at", "-pk"
    )


def api_key_get(organization: Organization, code: Any) -> ApiKey:
    return get_object_or_404(for_organization(ApiKey.objects.all(), organization), code=code)
