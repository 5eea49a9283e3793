from __future__ import annotations

import mailbox
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from inbound.feed import FeedSummary, message_feed
from organizations.commands import organization_get


class Command(BaseCommand):
    help = "Feed every message of an mbox archive to an organization through the inbound pipeline, in order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--sync", action="store_true", help="process each email before the next one")
        parser.add_argument(
            "--skip-sender-check", action="store_true", help="accept any sender (backfills of old mail)"
        )
        parser.add_argument("path", help="the mbox file")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        box = mailbox.mbox(path, create=False)
        summary = FeedSummary()
        try:
            keys = list(box.keys())
            for key in tqdm(keys, desc="emails", unit="msg", file=sys.stderr, disable=None):
                message_feed(
                    organization=organization,
                    raw=box.get_bytes(key),
                    provider="mbox",
                    summary=summary,
                    check_sender=not options["skip_sender_check"],
                    sync=options["sync"],
                )
        finally:
            box.close()
        self.stdout.write(summary.line())
