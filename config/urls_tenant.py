"""URLs of a workspace host (<slug>.BASE_DOMAIN). Every view starts with an access helper."""

from django.urls import include, path

from config import views
from organizations import views as organization_views

urlpatterns = [
    path("", views.dashboard_home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("handoff/<str:token>/", organization_views.handoff_consume, name="handoff"),
    path("invite/<str:token>/", organization_views.invitation_accept, name="invitation_accept"),
    path("accounts/", include("allauth.urls")),
    path("projects/", include("projects.urls")),
    path("inbox/", include("events.urls")),
    path("feeds/", include("events.urls_feeds")),
    path("usage/", include("usage.urls")),
    path("billing/", include("billing.urls")),
    path("", include("organizations.urls")),
]
