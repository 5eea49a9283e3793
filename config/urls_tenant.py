"""URLs of a workspace host (<slug>.BASE_DOMAIN). Every view starts with an access helper."""

from django.urls import include, path

from api.api_v1 import api as api_v1
from config import views
from ops import views as ops_views
from organizations import views as organization_views

urlpatterns = [
    path("", views.dashboard_home, name="home"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("handoff/<str:token>/", organization_views.handoff_consume, name="handoff"),
    path("invite/<str:token>/", organization_views.invitation_accept, name="invitation_accept"),
    path("accounts/", include("allauth.urls")),
    path("projects/", include("projects.urls")),
    path("inbox/", include("events.urls")),
    path("feeds/", include("events.urls_feeds")),
    path("usage/", include("usage.urls")),
    path("billing/", include("billing.urls")),
    # Bearer-key auth, not sessions (api/auth.py); api/ is the JSON API, the keys page sits under settings/.
    path("api/v1/", api_v1.urls),
    path("settings/api-keys/", include("api.urls")),
    path("", include("organizations.urls")),
]
