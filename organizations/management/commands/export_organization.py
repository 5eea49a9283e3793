from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from organizations.lifecycle import LifecycleError, organization_export
from organizations.models import Organization


class Command(BaseCommand):
    help = "Export all of one organization's data (every tenant table, its public rows, raw mail) as a zip."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The organization's slug")
        parser.add_argument("--output", type=Path, help="Zip file to write (default: <slug>-<date>.zip here)")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (logs, cron)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"No organization with the slug '{options['slug']}'.")
        output = options["output"] or Path(f"{organization.slug}-{timezone.localdate():%Y%m%d}.zip")
        quiet = options["no_progress"]

        def progress(items: Iterable[Any], total: int, label: str) -> Iterable[Any]:
            return tqdm(items, total=total, desc=label, unit="item", disable=quiet, file=self.stderr._out)

        try:
            result = organization_export(organization=organization, destination=output, progress=progress)
        except LifecycleError as error:
            raise CommandError(str(error)) from error
        rows = sum(result.rows.values())
        self.stdout.write(self.style.SUCCESS(f"Wrote {output}: {rows} rows, {result.files} files"))
        if result.missing_files:
            self.stdout.write(self.style.WARNING(f"{len(result.missing_files)} stored files were missing"))
