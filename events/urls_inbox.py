from django.urls import path

from events import views_filing, views_inbox

urlpatterns = [
    path("", views_inbox.inbox, name="inbox"),
    path("unfiled/", views_filing.unfiled, name="unfiled"),
    path("reprocess/<uuid:code>/", views_inbox.inbox_reprocess, name="inbox_reprocess"),
    path("reprocess-all/", views_inbox.inbox_reprocess_all, name="inbox_reprocess_all"),
]
