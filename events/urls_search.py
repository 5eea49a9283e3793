"""Search, mounted under /search/ on the workspace host."""

from django.urls import path

from events import views_search

app_name = "search"

urlpatterns = [path("", views_search.search_page, name="index")]
