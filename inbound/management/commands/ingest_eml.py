from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from inbound.management.commands._feed import FeedCommand
from organizations.commands import organization_get


class Command(FeedCommand):
    help = "Feed .eml files (or folders of them) to an organization through the inbound pipeline, in order."
    provider = "eml"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("paths", nargs="+", help="files or folders (folders are read in name order)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get(options["org"])
        files = list(self.files([Path(p) for p in options["paths"]]))
        self.feed(organization, files, Path.read_bytes, options)

    def files(self, paths: list[Path]) -> Iterator[Path]:
        for path in paths:
            if path.is_dir():
                yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            elif path.is_file():
                yield path
            else:
                raise CommandError(f"{path} does not exist")
