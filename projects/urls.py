"""Projects' pages under /projects/. A project's timeline sits beside them in the same `projects`
namespace, but it is events' (events.urls.timeline_patterns): config/urls_tenant.py mounts both,
so projects never imports events."""

from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_index, name="list"),
    path("new/", views.project_create, name="create"),
    path("feed/", views.organization_feed_rotate, name="organization_feed"),
    path("<uuid:code>/settings/", views.project_settings, name="edit"),
    path("<uuid:code>/merge/", views.project_merge, name="merge"),
    path("merges/<uuid:code>/", views.project_merge_detail, name="merge_detail"),
    path("merges/<uuid:code>/undo/", views.project_merge_undo, name="merge_undo"),
    path("<uuid:code>/feed/", views.project_feed_rotate, name="feed"),
    path("<uuid:code>/learned/remove/", views.project_signal_remove, name="signal_remove"),
]
