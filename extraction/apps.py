from django.apps import AppConfig
from django.conf import settings


class ExtractionConfig(AppConfig):
    name = "extraction"

    def ready(self) -> None:
        # The Anthropic SDK takes ~2 s of CPU to import. Imported lazily, every django-q2 worker
        # paid it inside its first task's timeout; under load (the soak) that exceeded the
        # timeout, the worker was killed, and its replacement started over. Imported here, in
        # the qcluster process, the forked workers inherit it.
        if settings.PROJECTR_AI_PROVIDER == "anthropic":
            import extraction.providers.anthropic  # noqa: F401
