from __future__ import annotations

import mailbox
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from inbound.management.commands._feed import FeedCommand
from organizations.commands import organization_get


class Command(FeedCommand):
    help = "Feed every message of an mbox archive to an organization through the inbound pipeline, in order."
    provider = "mbox"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("path", help="the mbox file")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        box = mailbox.mbox(path, create=False)
        try:
            self.feed(organization, list(box.keys()), box.get_bytes, options)
        finally:
            box.close()
