from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from usage.services import RETENTION_DAYS, usage_purge


class Command(BaseCommand):
    help = "Delete raw AI usage rows older than --days days (their daily rollups are kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=RETENTION_DAYS, help="keep this many days of raw rows")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args: Any, days: int, dry_run: bool, **options: Any) -> None:
        result = usage_purge(days=days, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {result.deleted} usage rows older than {result.cutoff:%Y-%m-%d}.")
