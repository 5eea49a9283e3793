"""Our webhook endpoints: anymail's Postmark and SES inbound views with our status codes.

anymail authenticates and parses; the signal receiver decides. These wrappers translate
what happened into the answer the provider needs (see docs/inbound.md):
200 stored, duplicate or ignored; 403 (Postmark only, it stops retrying) for rejected
mail; 400 for bad credentials or a malformed payload; 503 when our database is down and
502 when the message cannot be fetched from S3, so the provider retries.
"""

from __future__ import annotations

import json
import logging

from anymail.exceptions import AnymailConfigurationError, AnymailError, AnymailWebhookValidationFailure
from anymail.utils import get_request_basic_auth
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.base import AnymailBaseWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from config.security import rate_limit_hit, too_many_requests
from inbound.models import Delivery, Verdict
from inbound.receivers import outcomes, provider_name
from inbound.routing import route_find

logger = logging.getLogger(__name__)


def _secrets() -> list[str]:
    configured = settings.ANYMAIL.get("WEBHOOK_SECRET") or []
    return [configured] if isinstance(configured, str) else list(configured)


def _authenticated(request: HttpRequest) -> bool:
    credentials = get_request_basic_auth(request)
    return bool(credentials) and credentials in _secrets()


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _body_too_large(request: HttpRequest) -> bool:
    """Read the body ourselves: provider payloads are far above DATA_UPLOAD_MAX_MEMORY_SIZE.

    Our own cap (a JSON payload carries the message base64-encoded plus its parsed text)
    still bounds what one request can make us hold in memory.
    """
    limit = settings.INBOUND_MAX_MESSAGE_BYTES * 3 + 1024 * 1024
    if _content_length(request) > limit:
        return True
    request._body = request.read(limit + 1)  # type: ignore[attr-defined]  # Django reads request.body from here
    return len(request._body) > limit  # type: ignore[attr-defined]


def _invalid(request: HttpRequest, esp_name: str, reason: str, status: int) -> HttpResponse:
    # Only authenticated requests are logged in the database, so strangers cannot fill it.
    if _authenticated(request):
        Delivery.objects.create(
            provider=provider_name(esp_name),
            verdict=Verdict.INVALID,
            reason=reason[:500],
            size=_content_length(request),
        )
    logger.info("Inbound %s webhook refused (%s): %s", esp_name, status, reason)
    return HttpResponse(reason, status=status, content_type="text/plain")


def _envelope_recipient(esp_name: str, request: HttpRequest) -> str:
    """The envelope recipient, read from the JSON before anymail parses the message (cheap)."""
    try:
        payload = json.loads(request.body)
        if esp_name == "Amazon SES":
            payload = json.loads(payload["Message"])["receipt"]["recipients"]
            return str(payload[0]) if payload else ""
        return str(payload.get("OriginalRecipient") or "")
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return ""


def _over_rate_limit(esp_name: str, request: HttpRequest) -> HttpResponse | None:
    """One organization's flood must not starve the others: INBOUND_RATE_LIMIT per window.

    Postmark retries a 429 (anything but 403); SNS retries server errors, so SES gets 503.
    The message is not stored and not lost: the provider delivers it again later.
    """
    if settings.INBOUND_RATE_LIMIT <= 0:
        return None
    recipient = _envelope_recipient(esp_name, request)
    route = route_find([recipient]) if recipient else None
    if route is None:
        return None
    window = settings.INBOUND_RATE_LIMIT_WINDOW
    if not rate_limit_hit(f"inbound:{route.organization.pk}", limit=settings.INBOUND_RATE_LIMIT, window=window):
        return None
    logger.warning("Inbound %s webhook rate-limited for %s", esp_name, route.organization.schema_name)
    response = too_many_requests("Too many messages for this organization; retry later", retry_after=window)
    if esp_name == "Amazon SES":
        response.status_code = 503
    return response


def _run(view_class: type[AnymailBaseWebhookView], request: HttpRequest) -> HttpResponse:
    esp_name = str(view_class.esp_name)
    if not _secrets() and not settings.DEBUG:
        return HttpResponse("Inbound webhooks are not configured", status=403, content_type="text/plain")
    if request.method == "POST" and _body_too_large(request):
        return _invalid(request, esp_name, "Payload too large", 413)
    if request.method == "POST" and _authenticated(request) and (limited := _over_rate_limit(esp_name, request)):
        return limited
    token = outcomes.set([])
    try:
        response: HttpResponse = view_class.as_view()(request)
        collected = outcomes.get() or []
    except (OperationalError, InterfaceError):
        logger.exception("Database unavailable during an inbound %s webhook", esp_name)
        return HttpResponse("Temporarily unavailable, retry later", status=503, content_type="text/plain")
    except AnymailWebhookValidationFailure as error:
        return _invalid(request, esp_name, str(error), 400)
    except (BotoCoreError, ClientError) as error:
        logger.warning("Inbound %s message could not be fetched from S3: %s", esp_name, error)
        return _invalid(request, esp_name, "Could not fetch the message from S3", 502)
    except (AnymailError, AnymailConfigurationError, ValueError, KeyError, TypeError, AttributeError) as error:
        return _invalid(request, esp_name, f"Malformed payload: {type(error).__name__}", 400)
    except Exception as error:
        # Whatever else anymail's parsing raises on hostile input is still the input's fault.
        logger.exception("Inbound %s payload could not be parsed", esp_name)
        return _invalid(request, esp_name, f"Malformed payload: {type(error).__name__}", 400)
    finally:
        outcomes.reset(token)
    verdicts = {outcome.verdict for outcome in collected}
    if Verdict.INVALID in verdicts:
        # Our code failed on this message (recorded): Postmark retries 400s for hours,
        # time enough to deploy a fix; it is never a 500.
        return HttpResponse("Could not process the message", status=400, content_type="text/plain")
    if esp_name == "Postmark" and Verdict.REJECTED in verdicts:
        # 403 is the one answer that makes Postmark stop retrying; the Delivery row says why.
        return HttpResponse("Rejected", status=403, content_type="text/plain")
    return response


@csrf_exempt
def postmark_inbound(request: HttpRequest) -> HttpResponse:
    return _run(PostmarkInboundWebhookView, request)


@csrf_exempt
def amazon_ses_inbound(request: HttpRequest) -> HttpResponse:
    return _run(AmazonSESInboundWebhookView, request)
