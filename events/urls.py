"""Workspace URLs under /inbox/: the inbox and Unfiled (events.urls_inbox) and single emails (events.urls_emails)."""

from django.urls import include, path

app_name = "events"

urlpatterns = [
    path("", include("events.urls_inbox")),
    path("", include("events.urls_emails")),
]
