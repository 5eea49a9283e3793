"""Our webhook endpoints: anymail's Postmark and SES inbound views with our status codes.

Before anything of the request's body is read, its credentials are checked (strangers cost us
a header comparison, whatever they send), then the body is read up to a cap (413 above it).
anymail validates and maps the payload; its parse of the message is preceded by our screen
of the header block (inbound.receivers.event_screen), which refuses what will not be stored
(unknown recipient, sender not allowed, part bombs) before the body is parsed; the signal
receiver stores the rest. These wrappers translate what happened into the answer the
provider needs (see docs/inbound.md): 200 stored, duplicate or ignored; 403 (Postmark only,
it stops retrying) for rejected mail; 400 for bad credentials or a malformed payload; 503
when our database or the file storage is down and 502 when the message cannot be fetched from S3, so the
provider retries.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

from anymail.exceptions import AnymailConfigurationError, AnymailError, AnymailWebhookValidationFailure
from anymail.signals import AnymailInboundEvent
from anymail.utils import get_request_basic_auth
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.base import AnymailBaseWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from config.security import too_many_requests
from events.ingest import head_bytes
from fairness.limits import counter_hit
from inbound.models import Delivery, Verdict
from inbound.receivers import Screened, event_screen, outcomes, payload_raw, provider_name, screened
from inbound.routing import route_find
from organizations.storage import StorageUnavailable

logger = logging.getLogger(__name__)


def _secrets() -> list[str]:
    configured = settings.ANYMAIL.get("WEBHOOK_SECRET") or []
    return [configured] if isinstance(configured, str) else list(configured)


def _authenticated(request: HttpRequest) -> bool:
    """The Authorization header carries one of the secrets (constant-time compare). Without a
    secret (DEBUG only, settings refuse it otherwise) anymail accepts anyone, and so do we."""
    secrets_ = _secrets()
    if not secrets_:
        return bool(settings.DEBUG)
    credentials = get_request_basic_auth(request) or ""
    return any(constant_time_compare(credentials, secret) for secret in secrets_)


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def body_limit(esp_name: str) -> int:
    """The most of a request body our webhook reads: provider payloads are far above
    DATA_UPLOAD_MAX_MEMORY_SIZE, and this cap still bounds what one request makes us hold."""
    limit = settings.INBOUND_MAX_BODY_BYTES or settings.INBOUND_MAX_MESSAGE_BYTES * 3 + 1024 * 1024
    if esp_name == "Amazon SES":
        # An SNS notification is at most 256 KB of message in its envelope; bigger mail comes
        # through S3, fetched after authentication.
        limit = min(limit, settings.INBOUND_SES_MAX_BODY_BYTES)
    return limit


READ_CHUNK = 64 * 1024


def _body_read(request: HttpRequest, limit: int) -> bool:
    """Read the body in chunks, stopping as soon as it is over `limit` (False then): a declared
    length is refused before reading, an undeclared or lying one when the cap is reached."""
    if _content_length(request) > limit:
        return False
    chunks: list[bytes] = []
    size = 0
    while chunk := request.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            return False
        chunks.append(chunk)
    request._body = b"".join(chunks)  # type: ignore[attr-defined]  # Django reads request.body from here
    return True


def _unauthenticated(request: HttpRequest, esp_name: str) -> HttpResponse:
    """What anymail answers to bad credentials, without reading the body: SNS sends its
    credentials only after a 401 challenge; anything else wrong is a 400."""
    logger.info("Inbound %s webhook refused: missing or wrong credentials", esp_name)
    if esp_name == "Amazon SES" and not request.META.get("HTTP_AUTHORIZATION"):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Basic realm="Anymail WEBHOOK_SECRET"'
        return response
    return HttpResponse("Missing or invalid basic auth", status=400, content_type="text/plain")


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
    # One statement on an UNLOGGED counter row, on the database cache as with Redis
    # (fairness.limits; its cost per delivery is in BENCHMARKS.md).
    hit = counter_hit(
        f"inbound:{route.organization.pk}",
        limit=settings.INBOUND_RATE_LIMIT,
        window=settings.INBOUND_RATE_LIMIT_WINDOW,
    )
    if not hit.over:
        return None
    logger.warning("Inbound %s webhook rate-limited for %s", esp_name, route.organization.schema_name)
    response = too_many_requests("Too many messages for this organization; retry later", retry_after=hit.retry_after)
    if esp_name == "Amazon SES":
        response.status_code = 503
    return response


def _run(view_class: type[AnymailBaseWebhookView], request: HttpRequest) -> HttpResponse:
    esp_name = str(view_class.esp_name)
    if not _secrets() and not settings.DEBUG:
        return HttpResponse("Inbound webhooks are not configured", status=403, content_type="text/plain")
    if request.method == "POST":
        # Credentials first, from the headers: nothing of a stranger's body is read.
        if not _authenticated(request):
            return _unauthenticated(request, esp_name)
        if not _body_read(request, body_limit(esp_name)):
            return _invalid(request, esp_name, "Payload too large", 413)
        if limited := _over_rate_limit(esp_name, request):
            return limited
    token = outcomes.set([])
    screen_token = screened.set(None)
    try:
        try:
            response: HttpResponse = view_class.as_view()(request)
        except Screened as decided:
            # Refused from its header block and recorded; anymail never parsed the body.
            outcomes.get().append(decided.outcome)  # type: ignore[union-attr]
            response = HttpResponse()
        collected = outcomes.get() or []
    except (OperationalError, InterfaceError):
        logger.exception("Database unavailable during an inbound %s webhook", esp_name)
        return HttpResponse("Temporarily unavailable, retry later", status=503, content_type="text/plain")
    except StorageUnavailable:
        # The message could not be written to the file storage (bucket down): nothing was
        # stored, so the provider keeps it and delivers it again.
        logger.exception("File storage unavailable during an inbound %s webhook", esp_name)
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
        screened.reset(screen_token)
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


class PostmarkInbound(PostmarkInboundWebhookView):
    """anymail's Postmark inbound view, screening the header block before the whole parse."""

    def esp_to_anymail_event(self, esp_event: Any) -> AnymailInboundEvent:
        raw_email = esp_event.get("RawEmail") if isinstance(esp_event, dict) else None
        if isinstance(raw_email, str):
            # anymail maps the payload with the message cut to its headers, then we decide.
            head = head_bytes(raw_email.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")
            head_event = super().esp_to_anymail_event({**esp_event, "RawEmail": head})
            event_screen(head_event, str(self.esp_name), raw_email.encode("utf-8", "surrogateescape"))
        event: AnymailInboundEvent = super().esp_to_anymail_event(esp_event)
        return event


class AmazonSESInbound(AmazonSESInboundWebhookView):
    """anymail's SES inbound view, screening the header block before the whole parse. An S3
    message is fetched once (after authentication, up to INBOUND_MAX_MESSAGE_BYTES + 1 byte)."""

    _s3_message: bytes | None = None

    def esp_to_anymail_events(self, ses_event: Any, sns_message: Any) -> list[AnymailInboundEvent]:
        receipt = ses_event.get("receipt") if isinstance(ses_event, dict) else None
        action = receipt.get("action") if isinstance(receipt, dict) else None
        if isinstance(action, dict) and ses_event.get("notificationType") == "Received":
            if action.get("type") == "SNS" and isinstance(ses_event.get("content"), str):
                raw = payload_raw(ses_event) or b""
                head = head_bytes(raw)
                base64_encoded = str(action.get("encoding", "")).upper() == "BASE64"
                content = base64.b64encode(head).decode() if base64_encoded else head.decode("utf-8", "surrogateescape")
                head_events = super().esp_to_anymail_events({**ses_event, "content": content}, sns_message)
                event_screen(head_events[0], str(self.esp_name), raw)
            elif action.get("type") == "S3":
                raw = self._s3_fetch(str(action.get("bucketName")), str(action.get("objectKey")))
                self._s3_message = head_bytes(raw)
                head_events = super().esp_to_anymail_events(ses_event, sns_message)
                event_screen(head_events[0], str(self.esp_name), raw)
                self._s3_message = raw
        events: list[AnymailInboundEvent] = super().esp_to_anymail_events(ses_event, sns_message)
        return events

    def _s3_fetch(self, bucket_name: str, object_key: str) -> bytes:
        limit = settings.INBOUND_MAX_MESSAGE_BYTES + 1  # over the limit is refused, by its size
        chunks: list[bytes] = []
        size = 0
        for chunk in super().fetch_s3_chunks(bucket_name, object_key):
            chunks.append(chunk[: limit - size])
            size += len(chunks[-1])
            if size >= limit:
                break
        return b"".join(chunks)

    def fetch_s3_chunks(self, bucket_name: str, object_key: str) -> Iterator[bytes]:
        if self._s3_message is not None:
            yield self._s3_message
            return
        yield from super().fetch_s3_chunks(bucket_name, object_key)


@csrf_exempt
def postmark_inbound(request: HttpRequest) -> HttpResponse:
    return _run(PostmarkInbound, request)


@csrf_exempt
def amazon_ses_inbound(request: HttpRequest) -> HttpResponse:
    return _run(AmazonSESInbound, request)
