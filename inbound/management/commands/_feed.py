"""What ingest_eml and import_mbox share: their options and the feeding loop (a module Django
does not list as a command, for its leading underscore)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

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

    def feed(
        self, organization: Organization, items: Sequence[Item], read: Callable[[Item], bytes], options: dict[str, Any]
    ) -> None:
        """Each item's bytes through the inbound pipeline, in order; then the summary line."""
        summary = FeedSummary()
        for item in tqdm(items, desc="emails", unit="msg", file=sys.stderr, disable=None):
            message_feed(
                organization=organization,
                raw=read(item),
                provider=self.provider,
                summary=summary,
                check_sender=not options["skip_sender_check"],
                sync=options["sync"],
            )
        self.stdout.write(summary.line())
