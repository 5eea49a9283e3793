"""The Claude provider: one Messages API call with structured JSON output.

Order of operations matters for money: usage is recorded from every billed response before
`stop_reason` is looked at, so a cut-off or refused answer is still accounted for (the
ExtractionError carries it). Retries of 429/5xx/529 and timeouts are left to the SDK (it
honours retry-after); what is left after them is classified for the worker's own backoff.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import anthropic
from anthropic._middleware import CallNext, Middleware
from anthropic._request import APIRequest
from anthropic._response import APIResponse

from extraction.prices import PRICE_VERSION, cost_usd
from extraction.prompt import SYSTEM_PROMPT, user_message
from extraction.schema import OUTPUT_SCHEMA
from extraction.text import prepare, skip_reason
from extraction.types import (
    Context,
    EmailInput,
    Extraction,
    PermanentExtractionError,
    ProjectDecision,
    RetryableExtractionError,
    Usage,
)
from extraction.validate import InvalidOutput, extraction_from_output

logger = logging.getLogger(__name__)

PROVIDER = "anthropic"
MAX_TOKENS = 4096
# One retry with more room when the answer was cut off; beyond that the email is too big.
MAX_TOKENS_RETRY = 8192
SPEND_LIMIT_CODE = "enforced_spend_limit_reached"
# The SDK's own normalisation (additionalProperties false, the supported keyword subset); computed
# once so the cached prompt prefix is byte-identical from one email to the next.
STRICT_SCHEMA = anthropic.transform_schema(OUTPUT_SCHEMA)


class SpendLimitReached(Exception):
    """Raised inside the SDK's retry loop so the SDK does not retry a monthly spend cap."""

    def __init__(self, request_id: str, message: str) -> None:
        super().__init__(message)
        self.request_id = request_id


class SpendLimitMiddleware(Middleware):
    """A 429 carrying `enforced_spend_limit_reached` will not clear in seconds: stop at once."""

    def handle(self, request: APIRequest, call_next: CallNext) -> APIResponse[Any]:
        response = call_next(request)
        if response.status_code == 429:
            try:
                body = json.loads(response.read())
            except ValueError:
                return response
            error = body.get("error") if isinstance(body, dict) else None
            details = error.get("details") if isinstance(error, dict) else None
            if isinstance(details, dict) and details.get("error_code") == SPEND_LIMIT_CODE:
                message = error.get("message", "spend limit reached") if isinstance(error, dict) else ""
                raise SpendLimitReached(response.headers.get("request-id", ""), str(message))
        return response


def client_build(*, api_key: str, timeout: float, max_retries: int = 2, **options: Any) -> anthropic.Anthropic:
    """The SDK client with our middleware; tests pass `http_client=` with a mock transport."""
    return anthropic.Anthropic(
        api_key=api_key, timeout=timeout, max_retries=max_retries, middleware=[SpendLimitMiddleware()], **options
    )


def request_params(email: EmailInput, context: Context, *, model: str, max_tokens: int = MAX_TOKENS) -> dict[str, Any]:
    """The Messages API request: cached instructions first, the email last."""
    prepared = prepare(email)
    return {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": user_message(email, context, prepared)}],
        # Haiku/Sonnet 5.x reject temperature/top_p; low effort keeps adaptive thinking cheap.
        "output_config": {"effort": "low", "format": {"type": "json_schema", "schema": STRICT_SCHEMA}},
    }


def usage_from(
    message: Any, *, model: str, batch: bool = False, overrides: Mapping[str, Mapping[str, Decimal]] | None = None
) -> Usage:
    raw = message.usage
    cache_write = raw.cache_creation_input_tokens or 0
    cache_write_1h = 0
    if getattr(raw, "cache_creation", None) is not None:
        cache_write_1h = raw.cache_creation.ephemeral_1h_input_tokens or 0
    counters = {
        "input_tokens": raw.input_tokens or 0,
        "output_tokens": raw.output_tokens or 0,
        "cache_write_tokens": cache_write,
        "cache_read_tokens": raw.cache_read_input_tokens or 0,
    }
    billed_model = getattr(message, "model", "") or model
    return Usage(
        provider=PROVIDER,
        model=billed_model,
        cost_usd=cost_usd(
            billed_model, cache_write_1h_tokens=cache_write_1h, batch=batch, overrides=overrides, **counters
        ),
        price_version=PRICE_VERSION,
        request_id=getattr(message, "_request_id", None) or getattr(message, "id", "") or "",
        batch=batch,
        **counters,
    )


def _classify(exc: Exception, usage: list[Usage]) -> Exception:
    if isinstance(exc, SpendLimitReached):
        return PermanentExtractionError(f"spend limit reached: {exc}", usage=usage)
    if isinstance(exc, anthropic.APITimeoutError | anthropic.APIConnectionError):
        return RetryableExtractionError(f"{type(exc).__name__}: {exc}", usage=usage)
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == 429 and exc.error_code == SPEND_LIMIT_CODE:
            return PermanentExtractionError(f"spend limit reached ({exc.request_id})", usage=usage)
        if status in {408, 409, 429} or status >= 500:
            return RetryableExtractionError(f"HTTP {status} {exc.type or ''} ({exc.request_id})", usage=usage)
        return PermanentExtractionError(f"HTTP {status} {exc.type or ''} ({exc.request_id})", usage=usage)
    return exc


def extract(
    email: EmailInput,
    context: Context,
    *,
    client: anthropic.Anthropic,
    model: str,
    price_overrides: Mapping[str, Mapping[str, Decimal]] | None = None,
) -> Extraction:
    reason = skip_reason(email)
    if reason:
        # Auto-replies and newsletters cost nothing: no call, a zero-cost usage row.
        return Extraction(
            project=ProjectDecision(
                action="none", confidence=0.95, noise=reason, reason=f"not project mail ({reason})"
            ),
            events=[],
            summary=f"No events: {reason}.",
            usage=[Usage(provider=PROVIDER, model=model, price_version=PRICE_VERSION)],
            provider=PROVIDER,
            model=model,
        )
    usage: list[Usage] = []
    for max_tokens in (MAX_TOKENS, MAX_TOKENS_RETRY):
        params = request_params(email, context, model=model, max_tokens=max_tokens)
        try:
            message = client.messages.create(**params)
        except (anthropic.APIError, SpendLimitReached) as exc:
            raise _classify(exc, usage) from exc
        usage.append(usage_from(message, model=model, overrides=price_overrides))
        if message.stop_reason == "max_tokens":
            logger.info("extraction output cut off at %s tokens; retrying with more", max_tokens)
            continue
        return _answer_extraction(message, email, context, usage=usage, model=model)
    raise PermanentExtractionError(f"output cut off at {MAX_TOKENS_RETRY} tokens", usage=usage)


def _answer_extraction(
    message: Any, email: EmailInput, context: Context, *, usage: list[Usage], model: str
) -> Extraction:
    """One billed answer (its usage already in `usage`) → a validated Extraction, or the error
    saying why not. The per-email call and a batch's results go through it alike."""
    stop = message.stop_reason
    if stop == "refusal":
        raise PermanentExtractionError("the model refused this email", usage=usage)
    if stop not in {"end_turn", "stop_sequence"}:
        raise PermanentExtractionError(f"unexpected stop_reason {stop!r}", usage=usage)
    text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
    try:
        return extraction_from_output(
            text, email=email, context=context, usage=usage, provider=PROVIDER, model=message.model or model
        )
    except InvalidOutput as exc:
        raise RetryableExtractionError(f"invalid output: {exc}", usage=usage) from exc


def batch_request(custom_id: str, email: EmailInput, context: Context, *, model: str) -> dict[str, Any]:
    """One entry of `client.messages.batches.create(requests=[...])`: the per-email call's own
    request (`request_params`), billed at half price."""
    return {"custom_id": custom_id, "params": request_params(email, context, model=model)}


def batch_create(client: anthropic.Anthropic, requests: list[dict[str, Any]]) -> Any:
    """Submit one Message Batch; API errors are classified as the per-email call's are."""
    try:
        return client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
    except (anthropic.APIError, SpendLimitReached) as exc:
        raise _classify(exc, []) from exc


def batch_retrieve(client: anthropic.Anthropic, batch_id: str) -> Any:
    try:
        return client.messages.batches.retrieve(batch_id)
    except (anthropic.APIError, SpendLimitReached) as exc:
        raise _classify(exc, []) from exc


def batch_results(client: anthropic.Anthropic, batch_id: str) -> Iterator[Any]:
    """The lines of an ended batch's results (in no particular order: match on `custom_id`)."""
    try:
        yield from client.messages.batches.results(batch_id)
    except (anthropic.APIError, SpendLimitReached) as exc:
        raise _classify(exc, []) from exc


def batch_result_extraction(
    result: Any,
    email: EmailInput,
    context: Context,
    *,
    model: str,
    price_overrides: Mapping[str, Mapping[str, Decimal]] | None = None,
) -> Extraction:
    """An Extraction from one line of `client.messages.batches.results(batch_id)`, validated as
    the per-email answer is. A request that errored, was canceled or expired, and an answer cut
    off at `max_tokens` (the per-email call retries it with more room) are retryable: the
    caller sends the email the per-email way."""
    outcome = result.result
    if outcome.type != "succeeded":
        error = getattr(getattr(getattr(outcome, "error", None), "error", None), "type", "")
        raise RetryableExtractionError(f"batch request {outcome.type}" + (f" ({error})" if error else ""))
    message = outcome.message
    usage = [usage_from(message, model=model, batch=True, overrides=price_overrides)]
    if message.stop_reason == "max_tokens":
        raise RetryableExtractionError(f"batch answer cut off at {MAX_TOKENS} tokens", usage=usage)
    return _answer_extraction(message, email, context, usage=usage, model=model)
