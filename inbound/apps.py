from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "inbound"

    def ready(self) -> None:
        # Connect the anymail receiver and the django-q2 schema guard. The pipeline's
        # schedules are created by `manage.py setup_schedules` (inbound/management/commands).
        from events import tasks  # noqa: F401
        from inbound import receivers  # noqa: F401
