"""`extract(email, context) -> Extraction`: the one entry point. Pure: no database.

The only place in extraction/ that reads Django settings (provider, model, key, prices);
the providers take them as arguments so they stay testable without Django.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from extraction.calendar import calendars_read
from extraction.providers import rules
from extraction.types import BatchProgress, Context, EmailInput, Extraction, PermanentExtractionError

PROVIDERS = ("rules", "anthropic")


@functools.cache
def _shared_client(api_key: str, timeout: float, max_retries: int) -> Any:
    """One SDK client per process and settings: building one (its HTTP pool and TLS context) costs
    more CPU than the rest of an email's processing, and it is safe to share between threads."""
    from extraction.providers import anthropic as claude

    return claude.client_build(api_key=api_key, timeout=timeout, max_retries=max_retries)


def extract(email: EmailInput, context: Context, *, provider: str | None = None, client: Any = None) -> Extraction:
    """Run the configured provider (settings.PROJECTR_AI_PROVIDER) or the one named.

    `client` is an anthropic.Anthropic to use instead of one built from settings (tests,
    the batch path).
    """
    from django.conf import settings

    name = provider or settings.PROJECTR_AI_PROVIDER
    if name == "rules":
        return rules.extract(email, context)
    if name == "anthropic":
        from extraction.providers import anthropic as claude

        if client is None:
            if not settings.ANTHROPIC_API_KEY:
                raise PermanentExtractionError("ANTHROPIC_API_KEY is not set")
            client = _shared_client(
                settings.ANTHROPIC_API_KEY,
                settings.PROJECTR_AI_TIMEOUT,
                getattr(settings, "PROJECTR_AI_MAX_RETRIES", 2),
            )
        extraction = claude.extract(
            email,
            context,
            client=client,
            model=settings.PROJECTR_AI_MODEL,
            price_overrides=settings.PROJECTR_AI_PRICE_OVERRIDES,
        )
        return _with_calendar_notes(extraction, email)
    raise PermanentExtractionError(f"unknown extraction provider {name!r}")


def _with_calendar_notes(extraction: Extraction, email: EmailInput) -> Extraction:
    if email.calendars and not extraction.notes:
        # The model reads the invitations from the prompt; what it could not be shown goes to the log.
        problems = calendars_read(email.calendars, sent_at=email.date).problems
        extraction = replace(extraction, notes=list(problems))
    return extraction


# --- Backfills through the Message Batches API (docs/extraction.md) -------------------------------


def batch_enabled() -> bool:
    """Whether large backfills go through the Message Batches API: Claude is the provider and a
    key is set (the threshold, PROJECTR_AI_BATCH_MIN, is the caller's to apply)."""
    from django.conf import settings

    return settings.PROJECTR_AI_PROVIDER == "anthropic" and bool(settings.ANTHROPIC_API_KEY)


def batch_client() -> Any:
    from django.conf import settings

    return _shared_client(
        settings.ANTHROPIC_API_KEY, settings.PROJECTR_AI_TIMEOUT, getattr(settings, "PROJECTR_AI_MAX_RETRIES", 2)
    )


def batch_request(custom_id: str, email: EmailInput, context: Context) -> dict[str, Any]:
    """The per-email call's request for this email, as one entry of a Message Batch."""
    from django.conf import settings

    from extraction.providers import anthropic as claude

    return claude.batch_request(custom_id, email, context, model=settings.PROJECTR_AI_MODEL)


def batch_submit(requests: list[dict[str, Any]], *, client: Any = None) -> BatchProgress:
    from extraction.providers import anthropic as claude

    return _progress(claude.batch_create(client or batch_client(), requests))


def batch_progress(batch_id: str, *, client: Any = None) -> BatchProgress:
    from extraction.providers import anthropic as claude

    return _progress(claude.batch_retrieve(client or batch_client(), batch_id))


def batch_results(batch_id: str, *, client: Any = None) -> Iterator[tuple[str, Any]]:
    """(custom_id, result line) of an ended batch; pass the line to `batch_result_extract`."""
    from extraction.providers import anthropic as claude

    for line in claude.batch_results(client or batch_client(), batch_id):
        yield line.custom_id, line


def batch_result_extract(result: Any, email: EmailInput, context: Context) -> Extraction:
    """One result line → the Extraction the per-email call would have given (validated the same
    way), billed at batch prices; RetryableExtractionError when the email should go the per-email way."""
    from django.conf import settings

    from extraction.providers import anthropic as claude

    extraction = claude.batch_result_extraction(
        result, email, context, model=settings.PROJECTR_AI_MODEL, price_overrides=settings.PROJECTR_AI_PRICE_OVERRIDES
    )
    return _with_calendar_notes(extraction, email)


def _progress(batch: Any) -> BatchProgress:
    counts = batch.request_counts
    return BatchProgress(
        batch_id=batch.id,
        status=batch.processing_status,
        processing=counts.processing,
        succeeded=counts.succeeded,
        errored=counts.errored,
        canceled=counts.canceled,
        expired=counts.expired,
        created_at=batch.created_at,
        ended_at=batch.ended_at,
    )
