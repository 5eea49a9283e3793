from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from usage.services import usage_rollup


class Command(BaseCommand):
    help = "Recompute the daily usage rollups of the last --days days (today included)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=2)

    def handle(self, *args: Any, days: int, **options: Any) -> None:
        today = timezone.now().date()
        groups = sum(usage_rollup(day=today - timedelta(days=offset)) for offset in range(days))
        self.stdout.write(f"Rolled up {days} days ({groups} organization/model rows).")
