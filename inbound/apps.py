from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _schedules_ensure(sender: AppConfig, **kwargs: Any) -> None:
    from django.db import connection

    # migrate_schemas sends post_migrate once per schema; schedules live in public only.
    if getattr(connection, "schema_name", "public") == "public":
        from events.tasks import schedules_ensure

        schedules_ensure()


class InboundConfig(AppConfig):
    name = "inbound"

    def ready(self) -> None:
        # Connect the anymail receiver and the django-q2 guard.
        from events import tasks  # noqa: F401
        from inbound import receivers  # noqa: F401

        post_migrate.connect(_schedules_ensure, sender=self, dispatch_uid="projectr_schedules")
