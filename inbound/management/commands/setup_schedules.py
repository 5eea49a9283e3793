from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand
from django_q.models import Schedule

from billing import schedules as billing_schedules
from events import tasks
from inbound import digest
from inbound import schedules as inbound_schedules
from organizations.schemas import public_schema
from usage import schedules as usage_schedules

# Every app that runs on a schedule exposes `schedules_ensure()` (idempotent, rows found by
# name). This command is the one place `make run` and deployments call; it is inbound's, the
# highest app that has schedules, so that it may name every one of them.
SCHEDULES_ENSURE: tuple[Callable[[], list[Schedule]], ...] = (
    digest.schedules_ensure,
    tasks.schedules_ensure,
    inbound_schedules.schedules_ensure,
    billing_schedules.schedules_ensure,
    usage_schedules.schedules_ensure,
)


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules (daily digest, usage rollup and purge, held mail, kept refused mail, …)."

    def handle(self, *args: Any, **options: Any) -> None:
        with public_schema():
            for ensure in SCHEDULES_ENSURE:
                ensure()
            for schedule in Schedule.objects.order_by("name"):
                self.stdout.write(f"{schedule.name}: {schedule.func} ({self.describe(schedule)})")

    def describe(self, schedule: Schedule) -> str:
        if schedule.schedule_type == Schedule.CRON:
            return f"cron {schedule.cron}, next {schedule.next_run:%Y-%m-%d %H:%M %Z}"
        return f"{schedule.get_schedule_type_display()}, next {schedule.next_run:%Y-%m-%d %H:%M %Z}"
