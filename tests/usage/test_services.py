from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from organizations.models import Organization
from tests.billing.factories import ledger
from usage.models import DailyUsage, UsageRecord
from usage.services import usage_purge, usage_record, usage_records, usage_rollup

DAY = date(2026, 3, 3)
AT = datetime(2026, 3, 3, 10, tzinfo=UTC)


def test_usage_record_writes_one_ledger_row(org: Organization) -> None:
    code = uuid.uuid4()

    row = usage_record(organization=org, email_code=code, provider="anthropic", model="m", cost_usd=Decimal("0.2"))

    assert UsageRecord.objects.get(pk=row.pk).email_code == code


def test_usage_records_writes_every_call_of_an_email_in_one_statement(org: Organization) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    code = uuid.uuid4()
    calls: list[dict[str, Any]] = [
        {
            "provider": "anthropic",
            "model": "m",
            "input_tokens": 10,
            "cost_usd": Decimal("0.000123"),
            "request_id": "r1",
        },
        {"provider": "anthropic", "model": "m", "output_tokens": 20, "cache_read_tokens": 5, "batch": True},
    ]

    with CaptureQueriesContext(connection) as queries:
        rows = usage_records(organization=org, email_code=code, calls=calls)

    assert len([q for q in queries if not q["sql"].startswith("SET search_path")]) == 1
    fields = [f.attname for f in UsageRecord._meta.concrete_fields]
    stored = UsageRecord.objects.filter(email_code=code).order_by("pk")
    assert [{f: getattr(r, f) for f in fields} for r in rows] == [{f: getattr(r, f) for f in fields} for r in stored]
    assert [(r.request_id, r.batch, r.cost_usd) for r in stored] == [
        ("r1", False, Decimal("0.000123")),
        ("", True, Decimal("0")),
    ]
    assert all(r.created_at is not None and r.organization_id == org.pk for r in stored)


def test_rollup_sums_a_day_per_organization_and_model(org: Organization, other_org: Organization) -> None:
    ledger(org, emails=3, cost_each=Decimal("0.5"), at=AT, model="m1", provider="anthropic")
    ledger(org, emails=1, at=AT)
    ledger(other_org, emails=2, cost_each=Decimal("1"), at=AT, model="m1", provider="anthropic")
    ledger(org, emails=5, at=datetime(2026, 3, 4, 1, tzinfo=UTC))

    usage_rollup(day=DAY)

    rows = DailyUsage.objects.filter(organization=org, day=DAY).order_by("provider")
    assert [(r.provider, r.model, r.calls, r.emails, r.cost_usd) for r in rows] == [
        ("anthropic", "m1", 3, 3, Decimal("1.5")),
        ("rules", "", 1, 1, Decimal("0")),
    ]
    assert DailyUsage.objects.get(organization=other_org, day=DAY).cost_usd == Decimal("2")


def test_rolling_up_again_refreshes_instead_of_duplicating(org: Organization) -> None:
    ledger(org, emails=1, cost_each=Decimal("1"), at=AT)
    usage_rollup(day=DAY)
    ledger(org, emails=1, cost_each=Decimal("1"), at=AT)

    usage_rollup(day=DAY)

    assert list(DailyUsage.objects.filter(organization=org).values_list("calls", "cost_usd")) == [(2, Decimal("2"))]


def test_purge_deletes_old_rows_and_keeps_their_rollups(org: Organization) -> None:
    ledger(org, emails=4, cost_each=Decimal("0.25"), at=datetime(2025, 12, 1, tzinfo=UTC))
    recent = ledger(org, emails=1, at=datetime(2026, 3, 1, tzinfo=UTC))

    result = usage_purge(days=90, now=datetime(2026, 3, 20, tzinfo=UTC))

    assert (result.deleted, result.rolled_up_days) == (4, 1)
    assert list(UsageRecord.objects.filter(organization=org).values_list("pk", flat=True)) == [recent[0].pk]
    assert DailyUsage.objects.get(organization=org, day=date(2025, 12, 1)).cost_usd == Decimal("1")


def test_purge_dry_run_only_counts(org: Organization) -> None:
    ledger(org, emails=4, at=datetime(2025, 12, 1, tzinfo=UTC))

    result = usage_purge(days=90, dry_run=True, now=datetime(2026, 3, 20, tzinfo=UTC))

    assert result.deleted == 4
    assert UsageRecord.objects.filter(organization=org).count() == 4
    assert not DailyUsage.objects.exists()


def test_purge_refuses_to_delete_everything(db: None) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        usage_purge(days=0)
