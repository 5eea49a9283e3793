"""inbound's periodic work: purging refused mail kept past INBOUND_REFUSED_KEEP_DAYS (inbound.kept)."""

from __future__ import annotations

from django_q.models import Schedule

from config.schedules import schedules_update_or_create
from inbound.kept import kept_messages_purge

SCHEDULES = [
    {
        "name": "inbound: purge kept refused mail",
        "func": "inbound.schedules.kept_messages_purge_task",
        "schedule_type": Schedule.HOURLY,
        "repeats": -1,
    }
]


def kept_messages_purge_task() -> int:
    return kept_messages_purge()


def schedules_ensure() -> list[Schedule]:
    return schedules_update_or_create(SCHEDULES)
