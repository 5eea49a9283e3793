from django.urls import path

from usage import views

app_name = "usage"

urlpatterns = [
    path("", views.usage_overview, name="overview"),
    path("export.csv", views.usage_export, name="export"),
]
