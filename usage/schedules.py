"""django-q2 schedules of the usage app, created idempotently by name (the run script calls this)."""

from __future__ import annotations

from django_q.models import Schedule

SCHEDULES = [
    {"name": "usage-rollup", "func": "usage.tasks.usage_rollup_recent", "schedule_type": Schedule.HOURLY},
    {"name": "usage-purge", "func": "usage.tasks.usage_purge_old", "schedule_type": Schedule.DAILY},
]


def schedules_ensure() -> list[Schedule]:
    result = []
    for spec in SCHEDULES:
        schedule, _ = Schedule.objects.update_or_create(
            name=spec["name"], defaults={"func": spec["func"], "schedule_type": spec["schedule_type"]}
        )
        result.append(schedule)
    return result
