"""The entry point: provider selection from settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from extraction.api import extract
from extraction.types import Context, EmailInput, PermanentExtractionError

EMAIL = EmailInput(
    message_id="<m@x>",
    subject="Kitchen",
    from_address="a@client.example",
    from_name="A",
    to=[],
    cc=[],
    date=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    text="The site visit is on Friday 27 November at 10am.",
)


def test_it_uses_the_rules_provider_by_default_in_tests() -> None:
    result = extract(EMAIL, Context())

    assert result.provider == "rules"
    assert [e.kind for e in result.events] == ["meeting"]


def test_the_anthropic_provider_needs_a_key(settings: Any) -> None:
    settings.ANTHROPIC_API_KEY = ""

    with pytest.raises(PermanentExtractionError, match="ANTHROPIC_API_KEY"):
        extract(EMAIL, Context(), provider="anthropic")


def test_an_unknown_provider_is_a_permanent_error() -> None:
    with pytest.raises(PermanentExtractionError):
        extract(EMAIL, Context(), provider="magic")
