"""Timeline, event actions and exports, mounted under /projects/ in the `projects` namespace."""

from django.urls import path

from events import views_timeline as views

urlpatterns = [
    path("export.<str:fmt>", views.organization_export, name="export"),
    path("<uuid:code>/", views.timeline, name="timeline"),
    path("<uuid:code>/export.<str:fmt>", views.project_export, name="project_export"),
    path("<uuid:code>/events/new/", views.event_create, name="event_create"),
    path("<uuid:code>/events/<uuid:event_code>/", views.event_row, name="event_row"),
    path("<uuid:code>/events/<uuid:event_code>/edit/", views.event_edit, name="event_edit"),
    path("<uuid:code>/events/<uuid:event_code>/done/", views.event_done, name="event_done"),
    path("<uuid:code>/events/<uuid:event_code>/delete/", views.event_delete, name="event_delete"),
    path("<uuid:code>/events/<uuid:event_code>/restore/", views.event_restore, name="event_restore"),
    path("<uuid:code>/events/<uuid:event_code>/move/", views.event_move, name="event_move"),
    path("<uuid:code>/events/<uuid:event_code>/accept/", views.event_accept, name="event_accept"),
    path("<uuid:code>/events/<uuid:event_code>/dismiss/", views.event_dismiss, name="event_dismiss"),
]
