from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.zones import zone_or_none


class TimeZoneMiddleware:
    """Shows every page in the signed-in person's own time zone.

    Aware datetimes in templates (when an email arrived, an invitation expires) and
    `timezone.localdate()` (the agenda's "today") follow the zone activated here. A person
    without a zone yet, and every anonymous request, get settings.TIME_ZONE (UTC): the
    organization has no zone of its own to fall back to.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        zone = zone_or_none(getattr(user, "time_zone", "")) if user.is_authenticated else None
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            # The thread serves other people's requests next.
            timezone.deactivate()
