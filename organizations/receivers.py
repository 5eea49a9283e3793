"""A membership that goes, by whatever path (the team page, the Django admin, a deleted user):
every shared feed address the member could have copied changes."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver

from organizations.models import Membership, Organization
from organizations.services import feed_token_new
from organizations.signals import membership_removed


@receiver(post_delete, sender=Membership, dispatch_uid="organizations_feeds_rotate_on_departure")
def feeds_rotate_on_departure(sender: Any, *, instance: Membership, origin: Any = None, **kwargs: Any) -> None:
    # The organization itself being deleted takes its feeds and schema with it: nothing to rotate.
    if isinstance(origin, Organization) or (isinstance(origin, QuerySet) and origin.model is Organization):
        return
    organization = Organization.objects.filter(pk=instance.organization_id).first()
    if organization is None:
        return
    Organization.objects.filter(pk=organization.pk).exclude(feed_token="").update(feed_token=feed_token_new())
    membership_removed.send(sender=Membership, membership=instance, organization=organization)
