from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from organizations.lifecycle import LifecycleError
from organizations.portability import organization_import
from organizations.storage import StorageUnavailable


class Command(BaseCommand):
    help = (
        "Create an organization from its export_organization zip, with everything it owned: a restore "
        "after a disaster, or a move from another install."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="The zip written by export_organization")
        parser.add_argument("--slug", help="Import under this slug (and its host and inbound address) instead")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (logs, cron)")

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["archive"]
        if not archive.is_file():
            raise CommandError(f"No such file: {archive}")
        quiet = options["no_progress"]

        def progress(items: Iterable[Any], total: int, label: str) -> Iterable[Any]:
            return tqdm(items, total=total, desc=label, unit="item", disable=quiet, file=self.stderr._out)

        try:
            result = organization_import(archive_path=archive, slug=options["slug"], progress=progress)
        except (LifecycleError, StorageUnavailable) as error:
            raise CommandError(str(error)) from error
        organization = result.organization
        rows = sum(result.rows.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {organization.name} as {organization.slug} (schema {organization.schema_name}): "
                f"{rows} rows, {result.files} files; workspace {organization.absolute_url()}, "
                f"inbound address {organization.inbound_address}"
            )
        )
        if result.users_created:
            self.stdout.write(
                f"{len(result.users_created)} people had no account here and got one without a password "
                "(they sign in after 'Forgot password'): " + ", ".join(result.users_created)
            )
        for key, count in sorted(result.renewed.items()):
            self.stdout.write(self.style.WARNING(f"{count} × {key} was taken here (the original?): a new one was made"))
        for label, count in sorted(result.skipped.items()):
            self.stdout.write(self.style.WARNING(f"{count} {label} rows not imported"))
