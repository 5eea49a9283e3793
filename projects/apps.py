from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"

    def ready(self) -> None:
        # Connects the receiver that gives project feeds new addresses when a member leaves.
        from projects import receivers  # noqa: F401
