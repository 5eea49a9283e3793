from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand
from django_q.models import Schedule

from organizations.schemas import public_schema

# Every app that runs on a schedule exposes `schedules_ensure()` (idempotent,
# rows found by name). This command is the one place `make run` and deployments call; a module
# that does not exist yet in this build is skipped.
SCHEDULE_MODULES = (
    "events.digest",
    "events.tasks",
    "billing.schedules",
    "usage.schedules",
)


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules (daily digest, usage rollup and purge, held mail, …)."

    def handle(self, *args: Any, **options: Any) -> None:
        with public_schema():
            for name in SCHEDULE_MODULES:
                self.ensure(name)
            for schedule in Schedule.objects.order_by("name"):
                self.stdout.write(f"{schedule.name}: {schedule.func} ({self.describe(schedule)})")

    def ensure(self, module_name: str) -> None:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return
        ensure = getattr(module, "schedules_ensure", None)
        if ensure is not None:
            ensure()

    def describe(self, schedule: Schedule) -> str:
        if schedule.schedule_type == Schedule.CRON:
            return f"cron {schedule.cron}, next {schedule.next_run:%Y-%m-%d %H:%M %Z}"
        return f"{schedule.get_schedule_type_display()}, next {schedule.next_run:%Y-%m-%d %H:%M %Z}"
