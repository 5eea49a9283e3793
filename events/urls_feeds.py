"""Calendar feeds, mounted under /feeds/ on the workspace host."""

from django.urls import path

from events import views_feeds

app_name = "feeds"

urlpatterns = [
    path("<str:token>.ics", views_feeds.organization_feed, name="organization"),
    path("projects/<uuid:code>/<str:token>.ics", views_feeds.project_feed, name="project"),
]
