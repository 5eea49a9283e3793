from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from organizations.models import Organization
from usage.models import UsageRecord


def ledger(
    organization: Organization,
    *,
    emails: int = 0,
    cost_each: Decimal = Decimal("0"),
    at: datetime | None = None,
    model: str = "",
    provider: str = "rules",
) -> list[UsageRecord]:
    """`emails` ledger rows, one email each; `at` backdates them (created_at is auto_now_add)."""
    rows = UsageRecord.objects.bulk_create(
        UsageRecord(
            organization=organization, email_code=uuid.uuid4(), provider=provider, model=model, cost_usd=cost_each
        )
        for _ in range(emails)
    )
    if at is not None:
        UsageRecord.objects.filter(pk__in=[row.pk for row in rows]).update(created_at=at)
    return rows
