"""Request ids on every request and response; the webhook latency histogram; /healthz before
the tenant lookup."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ops.metrics import webhook_observe
from ops.request_id import request_id

# A proxy's id (X-Request-ID) is kept when it looks like one; anything else is replaced, so
# logs never carry a visitor's arbitrary text.
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
WEBHOOK_PREFIX = "/anymail/"


class RequestIdMiddleware:
    """First in MIDDLEWARE, so even the tenant lookup's log lines carry the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        current = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        token = request_id.set(current)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        if request.path.startswith(WEBHOOK_PREFIX):
            webhook_observe(request.path, response.status_code, time.perf_counter() - started)
        response["X-Request-ID"] = current
        return response


class HealthzMiddleware:
    """/healthz answered before the tenant lookup, which reads the database: with the database
    gone that lookup raised and a load balancer got a 500 instead of the health check's 503 that
    says why. The check names no organization, so it needs no tenant."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/healthz":
            return self.get_response(request)
        from django.db import connection

        from ops.views import healthz  # the view module imports models: not at settings load

        connection.set_schema_to_public()  # type: ignore[attr-defined]  # a worker's connection may hold the last tenant
        return healthz(request)
