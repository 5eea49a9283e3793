"""`extract(email, context) -> Extraction`: the one entry point. Pure: no database."""

from __future__ import annotations

from extraction.types import Context, EmailInput, Extraction, ProjectDecision, Usage


def extract(email: EmailInput, context: Context, *, provider: str | None = None) -> Extraction:
    """Run the configured provider (settings.PROJECTR_AI_PROVIDER) or the one named."""
    from django.conf import settings

    name = provider or settings.PROJECTR_AI_PROVIDER
    # Placeholder until the providers land (issue #4): files nothing, finds no events.
    return Extraction(
        project=ProjectDecision(action="none"),
        events=[],
        summary=email.subject[:200],
        usage=[Usage(provider=name)],
        provider=name,
    )
