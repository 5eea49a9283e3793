from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "organizations"

    def ready(self) -> None:
        from organizations import receivers  # noqa: F401 - connects the feed rotation on departure
