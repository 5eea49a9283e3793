"""URLs of the public host (BASE_DOMAIN): landing, sign-in, workspace list, admin, webhooks."""

from django.contrib import admin
from django.urls import include, path

from config import views
from ops import views as ops_views
from organizations import views as organization_views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics_view, name="metrics"),
    path("workspaces/", organization_views.workspace_list, name="workspace_list"),
    path("workspaces/<slug:slug>/open/", organization_views.workspace_open, name="workspace_open"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # Our Postmark and SES inbound views (status codes, errors); anymail's for INBOUND_ANYMAIL_ESPS only.
    path("anymail/", include("inbound.urls")),
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
]

# The error pages in the app's own layout with a way back (config/errors.py).
handler403 = "config.errors.error_403"
handler404 = "config.errors.error_404"
handler500 = "config.errors.error_500"
