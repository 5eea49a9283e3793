"""Usage's URLs under /usage/: the CSV export. config/urls_tenant.py mounts them in the `usage`
namespace together with the usage page, which is composed in config/views.py."""

from django.urls import path

from usage import views

urlpatterns = [
    path("export.csv", views.usage_export, name="export"),
]
