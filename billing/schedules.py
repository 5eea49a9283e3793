"""django-q2 schedules of the billing app, created idempotently by name (the run script calls this)."""

from __future__ import annotations

from django_q.models import Schedule

from config.schedules import schedules_update_or_create

SCHEDULES = [
    {"name": "billing-meter-report", "func": "billing.tasks.meter_report_all", "schedule_type": Schedule.HOURLY},
]


def schedules_ensure() -> list[Schedule]:
    return schedules_update_or_create(SCHEDULES)
