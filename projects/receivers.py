"""What projects does when organizations, below it, announces a change it cannot call projects for."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from organizations.models import Organization
from organizations.signals import membership_removed
from projects.services import project_feeds_rotate


@receiver(membership_removed, dispatch_uid="projects_feeds_rotate_on_departure")
def feeds_rotate_on_departure(sender: Any, *, organization: Organization, **kwargs: Any) -> None:
    # Every member could open a project's settings and copy its feed address: one who leaves must
    # not keep an address that still works.
    project_feeds_rotate(organization=organization)
