from django.apps import AppConfig


class FairnessConfig(AppConfig):
    name = "fairness"
    verbose_name = "Fairness between organizations"
    default_auto_field = "django.db.models.BigAutoField"
