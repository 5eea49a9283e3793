from __future__ import annotations

from django import template

from organizations.models import Organization
from projects.models import Project

register = template.Library()


@register.filter
def project_address(project: Project, organization: Organization) -> str:
    """The `slug+project@` address that files mail straight into this project."""
    local, _, domain = organization.inbound_address.partition("@")
    return f"{local}+{project.slug}@{domain}"
