from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import schema_context

from events.exports import export_csv, export_data, export_ics, export_json
from organizations.commands import organization_get
from organizations.models import Organization


class Command(BaseCommand):
    help = "Write an organization's projects, emails and timeline events to stdout as JSON, CSV or iCalendar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, metavar="SLUG", help="The organization's slug")
        parser.add_argument("--format", choices=["json", "csv", "ics"], default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        with schema_context(organization.schema_name):
            self.stdout.write(self.render(organization, options["format"]), ending="")

    def render(self, organization: Organization, fmt: str) -> str:
        if fmt == "csv":
            return export_csv(organization=organization)
        if fmt == "ics":
            return export_ics(calendar_name=organization.name).decode()
        return export_json(export_data(organization_slug=organization.slug))
