"""Our account pages beside allauth's (mounted under /accounts/ before allauth.urls, on every host)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("time-zone/", views.time_zone, name="account_time_zone"),
    path("time-zone/detect/", views.time_zone_detect, name="account_time_zone_detect"),
]
