"""Usage ledger services (public schema)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from organizations.models import Organization
from usage.models import UsageRecord


def usage_record(
    *,
    organization: Organization,
    email_code: UUID | None,
    provider: str,
    model: str = "",
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_read_tokens: int = 0,
    cost_usd: Decimal = Decimal("0"),
    price_version: str = "",
    request_id: str = "",
    batch: bool = False,
) -> UsageRecord:
    """One ledger row per AI call; the rules provider records a zero-cost row so email counts are right.

    Takes plain values (not extraction.types.Usage) because usage sits below events in the
    import flow; callers pass `**dataclasses.asdict(usage)`.
    """
    return UsageRecord.objects.create(
        organization=organization,
        email_code=email_code,
        provider=provider,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_read_tokens=cache_read_tokens,
        cost_usd=cost_usd,
        price_version=price_version,
        request_id=request_id,
        batch=batch,
    )
