from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # Connects the dj-stripe webhook receivers.
        from billing import webhooks  # noqa: F401
