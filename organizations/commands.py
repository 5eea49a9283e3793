"""What management commands share: the organization their `--org SLUG` names."""

from __future__ import annotations

from django.core.management.base import CommandError

from organizations.models import Organization


def organization_get(slug: str) -> Organization:
    """The organization with this slug (never the schema template), or a CommandError."""
    organization = Organization.objects.filter(slug=slug, is_template=False).first()
    if organization is None:
        raise CommandError(f"No organization with the slug '{slug}'.")
    return organization
