from __future__ import annotations

from django_q.models import Schedule

from organizations.models import Organization
from tests.billing.factories import ledger
from usage.models import DailyUsage
from usage.schedules import schedules_ensure
from usage.tasks import usage_purge_old, usage_rollup_recent


def test_schedules_are_created_once_by_name(db: None) -> None:
    schedules_ensure()
    schedules_ensure()

    assert sorted(Schedule.objects.filter(name__startswith="usage-").values_list("name", "func")) == [
        ("usage-purge", "usage.tasks.usage_purge_old"),
        ("usage-rollup", "usage.tasks.usage_rollup_recent"),
    ]


def test_the_scheduled_rollup_covers_today(org: Organization) -> None:
    ledger(org, emails=1)

    usage_rollup_recent()

    assert DailyUsage.objects.filter(organization=org).count() == 1


def test_the_scheduled_purge_keeps_recent_rows(org: Organization) -> None:
    ledger(org, emails=1)

    assert usage_purge_old() == 0
