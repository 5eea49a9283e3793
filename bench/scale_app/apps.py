from django.apps import AppConfig


class ScaleAppConfig(AppConfig):
    name = "bench.scale_app"
    label = "bench_scale"
    default_auto_field = "django.db.models.BigAutoField"
