from __future__ import annotations

from django.db import transaction

from accounts.models import User
from accounts.zones import validate_time_zone


@transaction.atomic
def user_time_zone_set(*, user: User, time_zone: str) -> User:
    """The zone the person chose under Account → Time zone."""
    user.time_zone = time_zone
    user.full_clean(validate_unique=False, validate_constraints=False, exclude=["password"])
    user.save(update_fields=["time_zone"])
    return user


def user_time_zone_detect(*, user: User, time_zone: str) -> bool:
    """The browser's zone, sent once after sign-in: kept only while the person has none, so it
    never overrides a choice (two tabs posting at once both find it blank; the first wins).
    Returns whether it was kept."""
    validate_time_zone(time_zone)
    if not time_zone:
        return False
    kept = User.objects.filter(pk=user.pk, time_zone="").update(time_zone=time_zone) == 1
    if kept:
        user.time_zone = time_zone
    return kept
