from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from organizations.services import platform_ensure


class Command(BaseCommand):
    help = "Create the public site's tenant and hosts, and the template schema organizations are cloned from."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        public, template = platform_ensure()
        self.stdout.write(
            f"Platform ready ({time.perf_counter() - started:.1f}s): public schema '{public.schema_name}', "
            f"template schema '{template.schema_name}'"
        )
