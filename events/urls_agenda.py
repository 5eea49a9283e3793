"""The agenda, mounted under /agenda/ on the workspace host; / redirects to it (config.views)."""

from django.urls import path

from events import views_agenda

app_name = "agenda"

urlpatterns = [path("", views_agenda.agenda_page, name="index")]
