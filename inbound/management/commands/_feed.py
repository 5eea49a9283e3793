"""What ingest_eml and import_mbox share: their options and the feeding loop (a module Django
does not list as a command, for its leading underscore)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from events.ai_batches import backfill_dispatch, batch_wanted
from inbound.feed import FeedSummary, message_feed
from organizations.models import Organization

Item = TypeVar("Item")


class FeedCommand(BaseCommand):
    provider: str  # the Delivery's provider: "eml", "mbox"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--sync", action="store_true", help="process each email before the next one")
        parser.add_argument(
            "--skip-sender-check", action="store_true", help="accept any sender (backfills of old mail)"
        )
        parser.add_argument(
            "--no-batch",
            action="store_true",
            help="queue each email on its own even when Claude's Message Batches API would take them",
        )

    def feed(
        self, organization: Organization, items: Sequence[Item], read: Callable[[Item], bytes], options: dict[str, Any]
    ) -> None:
        """Each item's bytes through the inbound pipeline, in order; then the summary line.

        Without --sync, when more messages than PROJECTR_AI_BATCH_MIN come and Claude is the
        provider, they are stored without their tasks and then sent as one Message Batch
        (events.ai_batches); otherwise each is queued as it is stored.
        """
        summary = FeedSummary()
        batch = not options["sync"] and not options["no_batch"] and batch_wanted(len(items))
        try:
            for item in tqdm(items, desc="emails", unit="msg", file=sys.stderr, disable=None):
                message_feed(
                    organization=organization,
                    raw=read(item),
                    provider=self.provider,
                    summary=summary,
                    check_sender=not options["skip_sender_check"],
                    sync=options["sync"],
                    enqueue=not batch,
                )
        finally:
            # Also when a message stops the loop: what was stored is not left without its task.
            dispatch = backfill_dispatch(organization=organization, email_ids=summary.waiting) if batch else None
        self.stdout.write(summary.line())
        if dispatch is not None:
            self.stdout.write(dispatch.line())
