"""django-q2 schedules of the usage app, created idempotently by name (the run script calls this)."""

from __future__ import annotations

from django_q.models import Schedule

from config.schedules import schedules_update_or_create

SCHEDULES = [
    {"name": "usage-rollup", "func": "usage.tasks.usage_rollup_recent", "schedule_type": Schedule.HOURLY},
    {"name": "usage-purge", "func": "usage.tasks.usage_purge_old", "schedule_type": Schedule.DAILY},
]


def schedules_ensure() -> list[Schedule]:
    return schedules_update_or_create(SCHEDULES)
