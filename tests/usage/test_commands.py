from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from organizations.models import Organization
from tests.billing.factories import ledger
from usage.models import DailyUsage, UsageRecord


def test_purge_usage_dry_run_deletes_nothing(org: Organization) -> None:
    ledger(org, emails=3, at=timezone.now() - timedelta(days=120))
    out = StringIO()

    call_command("purge_usage", "--days", "90", "--dry-run", stdout=out)

    assert out.getvalue().startswith("Would delete 3 usage rows older than")
    assert UsageRecord.objects.filter(organization=org).count() == 3


def test_purge_usage_deletes_old_rows(org: Organization) -> None:
    ledger(org, emails=3, at=timezone.now() - timedelta(days=120))
    ledger(org, emails=1)
    out = StringIO()

    call_command("purge_usage", "--days", "90", stdout=out)

    assert out.getvalue().startswith("Deleted 3 usage rows")
    assert UsageRecord.objects.filter(organization=org).count() == 1


def test_rollup_usage_rolls_up_today(org: Organization) -> None:
    ledger(org, emails=2)

    call_command("rollup_usage", "--days", "1", stdout=StringIO())

    assert DailyUsage.objects.get(organization=org, day=timezone.now().date()).emails == 2
