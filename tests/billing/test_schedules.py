from __future__ import annotations

from decimal import Decimal
from typing import Any

from django_q.models import Schedule
from djstripe.models import Customer

from billing.schedules import schedules_ensure
from billing.tasks import meter_report_all
from organizations.models import Organization
from tests.billing.conftest import FakeStripe
from tests.billing.factories import ledger


def test_the_meter_schedule_is_created_once_by_name(db: None) -> None:
    schedules_ensure()
    schedules_ensure()

    assert list(Schedule.objects.filter(name__startswith="billing-").values_list("name", "func")) == [
        ("billing-meter-report", "billing.tasks.meter_report_all")
    ]


def test_the_meter_task_does_nothing_without_stripe(org: Organization) -> None:
    Organization.objects.filter(pk=org.pk).update(overage_enabled=True)
    ledger(org, emails=5, cost_each=Decimal("10"))

    assert meter_report_all() == 0


def test_the_meter_task_reports_opted_in_organizations(
    org: Organization, fake_stripe: FakeStripe, settings: Any
) -> None:
    Organization.objects.filter(pk=org.pk).update(overage_enabled=True)
    org.refresh_from_db()
    Customer.get_or_create(subscriber=org, livemode=False)
    ledger(org, emails=5, cost_each=Decimal("10"))

    assert meter_report_all() == 1
    assert meter_report_all() == 0
