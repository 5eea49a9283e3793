"""django-q2 schedules of the billing app, created idempotently by name (the run script calls this)."""

from __future__ import annotations

from django_q.models import Schedule

SCHEDULES = [
    {"name": "billing-meter-report", "func": "billing.tasks.meter_report_all", "schedule_type": Schedule.HOURLY},
]


def schedules_ensure() -> list[Schedule]:
    result = []
    for spec in SCHEDULES:
        schedule, _ = Schedule.objects.update_or_create(
            name=spec["name"], defaults={"func": spec["func"], "schedule_type": spec["schedule_type"]}
        )
        result.append(schedule)
    return result
