from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from inbound.feed import FeedSummary, message_feed
from organizations.commands import organization_get


class Command(BaseCommand):
    help = "Feed .eml files (or folders of them) to an organization through the inbound pipeline, in order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--sync", action="store_true", help="process each email before the next one")
        parser.add_argument(
            "--skip-sender-check", action="store_true", help="accept any sender (backfills of old mail)"
        )
        parser.add_argument("paths", nargs="+", help="files or folders (folders are read in name order)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        files = list(self.files([Path(p) for p in options["paths"]]))
        summary = FeedSummary()
        for path in tqdm(files, desc="emails", unit="msg", file=sys.stderr, disable=None):
            message_feed(
                organization=organization,
                raw=path.read_bytes(),
                provider="eml",
                summary=summary,
                check_sender=not options["skip_sender_check"],
                sync=options["sync"],
            )
        self.stdout.write(summary.line())

    def files(self, paths: list[Path]) -> Iterator[Path]:
        for path in paths:
            if path.is_dir():
                yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            elif path.is_file():
                yield path
            else:
                raise CommandError(f"{path} does not exist")
