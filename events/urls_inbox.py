from django.urls import path

from events import views_emails, views_filing

# The inbox page itself (`inbox`, at "") is inbound's; config/urls_tenant.py mounts it beside these.
urlpatterns = [
    path("unfiled/", views_filing.unfiled, name="unfiled"),
    path("reprocess-all/", views_emails.inbox_reprocess_all, name="inbox_reprocess_all"),
]
