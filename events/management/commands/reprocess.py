from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from events.ai_batches import backfill_dispatch, batch_wanted
from events.models import Email, EmailState
from events.processing import email_process, emails_reprocess
from organizations.commands import organization_get


class Command(BaseCommand):
    help = "Queue an organization's emails to be processed again: some by code, or every failed and/or held one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--failed", action="store_true", help="every failed email")
        parser.add_argument("--held", action="store_true", help="every held email")
        parser.add_argument("--all", action="store_true", help="every processed, failed and held email")
        parser.add_argument(
            "--no-batch",
            action="store_true",
            help="queue each email on its own even when Claude's Message Batches API would take them",
        )
        parser.add_argument("--sync", action="store_true", help="process them here instead of queueing them")
        parser.add_argument("codes", nargs="*", help="email codes (UUIDs, as in the inbox links)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        flags: list[tuple[str, str]] = [("failed", EmailState.FAILED), ("held", EmailState.HELD)]
        flags += [("all", EmailState.PROCESSED), ("all", EmailState.FAILED), ("all", EmailState.HELD)]
        states = tuple(dict.fromkeys(state for flag, state in flags if options[flag]))
        if not states and not options["codes"]:
            raise CommandError("Name email codes, or use --failed, --held or --all")
        schema_name = organization.schema_name
        ids: list[int] = []
        if options["codes"]:
            with schema_context(schema_name):
                ids = list(Email.objects.filter(code__in=options["codes"]).values_list("pk", flat=True))
        if states:
            with schema_context(schema_name):
                ids += list(Email.objects.filter(state__in=states).values_list("pk", flat=True))
        # Many emails with Claude as the provider: one Message Batch at half price (events.ai_batches).
        batch = not options["sync"] and not options["no_batch"] and batch_wanted(len(ids))
        moved = emails_reprocess(schema_name=schema_name, email_ids=ids, enqueue=not options["sync"] and not batch)
        if options["sync"]:
            for email_id in moved:
                email_process(schema_name=schema_name, email_id=email_id)
        self.stdout.write(f"Re-queued {len(moved)} of {len(ids)} emails")
        if batch:
            self.stdout.write(backfill_dispatch(organization=organization, email_ids=moved).line())
