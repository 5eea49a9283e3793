from django.urls import path

from events import views_filing, views_inbox

# The inbox page itself (`inbox`, at "") is inbound's; config/urls_tenant.py mounts it beside these.
urlpatterns = [
    path("unfiled/", views_filing.unfiled, name="unfiled"),
    path("reprocess/<uuid:code>/", views_inbox.inbox_reprocess, name="inbox_reprocess"),
    path("reprocess-all/", views_inbox.inbox_reprocess_all, name="inbox_reprocess_all"),
]
