from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from organizations.models import Organization
from tests.billing.conftest import PRICE_STARTER
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


PERIOD_END = int((datetime.now(tz=UTC) + timedelta(days=20)).timestamp())


def subscription(
    org: Organization | None,
    *,
    status: str = "active",
    price: str = PRICE_STARTER,
    sub_id: str = "sub_test1",
    customer: str = "cus_test1",
) -> dict[str, Any]:
    now = int(time.time())
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "livemode": False,
        "created": now,
        "start_date": now,
        "billing_cycle_anchor": now,
        "cancel_at_period_end": False,
        "collection_method": "charge_automatically",
        "currency": "usd",
        "metadata": {"org_id": str(org.pk)} if org else {},
        "trial_end": None,
        "items": {
            "object": "list",
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={sub_id}",
            "data": [
                {
                    "id": f"si_{sub_id}",
                    "object": "subscription_item",
                    "created": now,
                    "quantity": 1,
                    "subscription": sub_id,
                    "current_period_start": now,
                    "current_period_end": PERIOD_END,
                    "metadata": {},
                    "price": {
                        "id": price,
                        "object": "price",
                        "active": True,
                        "currency": "usd",
                        "product": "prod_plan",
                        "type": "recurring",
                        "unit_amount": 4900,
                        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
                        "livemode": False,
                        "created": now,
                        "metadata": {},
                    },
                }
            ],
        },
    }
