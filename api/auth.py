"""Bearer-key authentication, the write check and the rate limits (per key, per organization).

Session cookies are never looked at: the API authenticates with `Authorization: Bearer`
only, so a browser that happens to be signed in cannot be made to write through it by
another site (no CSRF surface), and its views are CSRF-exempt for that reason.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils import timezone
from django_tenants.utils import get_public_schema_name
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from api.errors import THROTTLED_DETAIL
from api.models import ApiKey
from api.services import api_key_hash
from fairness.limits import counter_hit

# last_used_at is a hint for people, not an audit log: one write a minute per key is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuth(HttpBearer):
    """A live key of the organization whose host was called; anything else is None (→ 401)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == get_public_schema_name() or not token:
            return None
        api_key = (
            ApiKey.objects.select_related("created_by", "organization")
            .filter(key_hash=api_key_hash(token.strip()), organization_id=tenant.pk, revoked_at__isnull=True)
            .first()
        )
        if api_key is None:
            return None
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        return api_key


def request_key(request: HttpRequest) -> ApiKey:
    return cast(ApiKey, request.auth)  # type: ignore[attr-defined]


def api_access(request: HttpRequest, *, write: bool = False) -> ApiKey:
    """The access helper of every endpoint: the authenticated key, refused (403) when it may not write."""
    api_key = request_key(request)
    if write and not api_key.can_write:
        raise HttpError(403, "This API key is read-only; this request needs a read-write key.")
    return api_key


_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def rate_parse(rate: str, setting: str = "API_RATE_LIMIT") -> tuple[int, int]:
    """ "120/min" → (120, 60): requests allowed per window of that many seconds."""
    count, _, period = rate.partition("/")
    if period not in _PERIODS or not count.isdigit():
        raise ImproperlyConfigured(f"{setting} must look like 120/min, not {rate!r}")
    return int(count), _PERIODS[period]


class ApiKeyThrottle(BaseThrottle):
    """A fixed window for all the organization's keys together in PostgreSQL (fairness.limits:
    one statement, Redis or not), then a sliding window per key in the shared cache; ninja
    answers 429 with `Retry-After: wait()`.

    The organization's limit is what keeps one organization's integrations from taking the
    web workers' time from the others: keys are capped per organization (api.services), but
    each has its own allowance. It is checked first, so that a flood beyond it is refused
    with one statement (the key's window on the database cache costs several).

    ninja keeps one throttle object for every request, and its SimpleRateThrottle keeps the
    request's state on that object, which threads would share; the state lives in a
    thread-local here. Two requests racing across processes can both pass the key's last
    slot: that limit is a guard against runaway scripts, not an exact quota. The
    organization's count is exact.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        api_key = getattr(request, "auth", None)
        if not isinstance(api_key, ApiKey):
            return True
        if not self._organization_allows(request, api_key):
            return False
        limit, window = rate_parse(settings.API_RATE_LIMIT)
        # Key ids are global (public schema), so one cache for every host is safe.
        cache_key = f"api-rate:{api_key.pk}"
        now = time.time()
        history = [at for at in cache.get(cache_key, []) if at > now - window]  # newest first
        if len(history) >= limit:
            self._local.wait = history[-1] + window - now  # when the oldest request leaves the window
            setattr(request, THROTTLED_DETAIL, f"This API key made more than {limit} requests in {window} s.")
            return False
        cache.set(cache_key, [now, *history], window)
        return True

    def _organization_allows(self, request: HttpRequest, api_key: ApiKey) -> bool:
        limit, window = rate_parse(settings.API_ORGANIZATION_RATE_LIMIT, "API_ORGANIZATION_RATE_LIMIT")
        hit = counter_hit(f"api-org:{api_key.organization_id}", limit=limit, window=window)
        if not hit.over:
            return True
        self._local.wait = hit.retry_after
        setattr(
            request,
            THROTTLED_DETAIL,
            f"This workspace's API keys together made more than {limit} requests in {window} s.",
        )
        return False

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)
