from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from organizations.lifecycle import LifecycleError, organization_delete
from organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Delete an organization for good: its schema, its public rows (members, invitations, "
        "deliveries, usage, billing) and its stored files. Export it first (export_organization)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The organization's slug")
        parser.add_argument("--yes", action="store_true", help="Do not ask to type the slug (scripts)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"No organization with the slug '{options['slug']}'.")
        if not options["yes"] and not self.confirmed(organization):
            raise CommandError("Not confirmed; nothing was deleted.")
        try:
            result = organization_delete(organization=organization)
        except LifecycleError as error:
            raise CommandError(str(error)) from error
        rows = sum(result.public_rows.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {organization.slug}: schema {result.schema_name}, {rows} public rows, {result.files} files"
            )
        )

    def confirmed(self, organization: Organization) -> bool:
        self.stdout.write(
            f"This deletes {organization.name} ({organization.slug}) and all of its data. It cannot be undone."
        )
        return input(f"Type the slug '{organization.slug}' to confirm: ").strip() == organization.slug
