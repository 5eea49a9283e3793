from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from organizations.lifecycle import LifecycleError, organization_export, organization_export_store
from organizations.models import Organization


class Command(BaseCommand):
    help = "Export all of one organization's data (every tenant table, its public rows, raw mail) as a zip."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The organization's slug")
        parser.add_argument(
            "--output",
            type=Path,
            help="Write the zip to this local file (default: into the organization's storage, exports/<slug>-<time>.zip)",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (logs, cron)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"No organization with the slug '{options['slug']}'.")
        output: Path | None = options["output"]
        quiet = options["no_progress"]

        def progress(items: Iterable[Any], total: int, label: str) -> Iterable[Any]:
            return tqdm(items, total=total, desc=label, unit="item", disable=quiet, file=self.stderr._out)

        try:
            if output is None:
                # A one-off container's disk goes with it: the export stays in the bucket (or media folder).
                stored = organization_export_store(organization=organization, progress=progress)
                result, written = stored.result, f"{stored.name} in {organization.schema_name}'s storage"
            else:
                result = organization_export(organization=organization, destination=output, progress=progress)
                written = str(output)
        except LifecycleError as error:
            raise CommandError(str(error)) from error
        rows = sum(result.rows.values())
        self.stdout.write(self.style.SUCCESS(f"Wrote {written}: {rows} rows, {result.files} files"))
        if result.missing_files:
            self.stdout.write(self.style.WARNING(f"{len(result.missing_files)} stored files were missing"))
