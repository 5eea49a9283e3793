"""`extract(email, context) -> Extraction`: the one entry point. Pure: no database.

The only place in extraction/ that reads Django settings (provider, model, key, prices);
the providers take them as arguments so they stay testable without Django.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from extraction.calendar import calendars_read
from extraction.providers import rules
from extraction.types import Context, EmailInput, Extraction, PermanentExtractionError

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
        if email.calendars and not extraction.notes:
            # The model reads the invitations from the prompt; what it could not be shown goes to the log.
            problems = calendars_read(email.calendars, sent_at=email.date).problems
            extraction = replace(extraction, notes=list(problems))
        return extraction
    raise PermanentExtractionError(f"unknown extraction provider {name!r}")
