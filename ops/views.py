"""/healthz and /metrics, on every host (public and workspace URLconfs)."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django_q.brokers import get_broker
from prometheus_client import CONTENT_TYPE_LATEST

from ops import metrics

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database and the broker answer and no email has waited too long; else 503."""
    report: dict[str, Any] = {"status": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = "ok"
    except Exception:  # noqa: BLE001 - any database failure means unhealthy, and nothing else can be checked
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    try:
        report["broker"] = "ok" if get_broker().ping() else "unavailable"
    except Exception:
        logger.warning("Health check: the task broker does not answer", exc_info=True)
        report["broker"] = "unavailable"
    try:
        queue = metrics.cached_queue_figures()
        age = queue.oldest_age_seconds()
        report["queue"] = {"depth": queue.depth, "oldest_queued_age_seconds": round(age, 1)}
        if age > settings.HEALTHZ_MAX_QUEUE_AGE_SECONDS:
            report["queue"]["status"] = "stale"
    except Exception:
        logger.warning("Health check: the queue could not be read", exc_info=True)
        report["queue"] = {"status": "unavailable"}
    healthy = report["broker"] == "ok" and "status" not in report["queue"]
    if not healthy:
        report["status"] = "error"
    return JsonResponse(report, status=200 if healthy else 503)


def _authorized(request: HttpRequest) -> bool:
    expected = settings.METRICS_AUTH
    header = request.headers.get("Authorization", "")
    if not expected or not header.startswith("Basic "):
        return False
    try:
        given = base64.b64decode(header.removeprefix("Basic ").strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format behind basic auth (METRICS_AUTH=user:pass); 404 when not configured."""
    if not settings.METRICS_AUTH:
        raise Http404("Metrics are not enabled")
    if not _authorized(request):
        response = HttpResponse("Authentication required", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Basic realm="metrics"'
        return response
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
