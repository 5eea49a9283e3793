from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from events.batch import emails_process_batch_task
from organizations.commands import organization_get
from organizations.models import Organization


class Command(BaseCommand):
    help = (
        "A worker loop for queued mail: each organization's queue in batches, with "
        "PROJECTR_AI_CONCURRENCY AI calls in flight from this one process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="only this organization (slug)")
        parser.add_argument("--once", action="store_true", help="drain the queues, then exit")
        parser.add_argument("--batch", type=int, default=500, help="emails taken per organization per round")
        parser.add_argument("--sleep", type=float, default=2.0, help="seconds to wait when every queue is empty")

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while True:
            if options["org"]:
                organizations = [organization_get(options["org"])]
            else:
                organizations = list(
                    Organization.objects.filter(is_template=False, is_active=True).exclude(schema_name="public")
                )
            done = sum(
                sum(emails_process_batch_task(organization.schema_name, options["batch"]).values())
                for organization in organizations
            )
            total += done
            if done == 0:
                if options["once"]:
                    break
                time.sleep(options["sleep"])
        self.stdout.write(f"Processed {total} emails")
