"""Events' workspace URLs under /inbox/: Unfiled and re-processing (events.urls_inbox) and single
emails (events.urls_emails). config/urls_tenant.py mounts them in the `events` namespace together
with the inbox page, which is inbound's (inbound/views_inbox.py)."""

from django.urls import include, path

urlpatterns = [
    path("", include("events.urls_inbox")),
    path("", include("events.urls_emails")),
]
