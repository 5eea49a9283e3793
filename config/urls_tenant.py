"""URLs of a workspace host (<slug>.BASE_DOMAIN). Every view starts with an access helper."""

from django.urls import URLPattern, URLResolver, include, path

from api.api_v1 import api as api_v1
from config import views
from events import urls as events_urls
from inbound import urls as inbound_urls
from ops import views as ops_views
from organizations import views as organization_views
from projects import urls as projects_urls
from usage import urls as usage_urls

# Each app's URLs are mounted where their pages live. /inbox/ is one `events` namespace: the inbox
# page (inbound's, as it shows inbound's refused deliveries, and events sits below inbound) and
# events' pages for the mail. /projects/ is one `projects` namespace: projects' pages and the
# timeline with its events, which are events' (events sit above projects).
inbox_pages: tuple[list[URLPattern | URLResolver], str] = (
    [*inbound_urls.inbox_patterns, *events_urls.inbox_patterns],
    "events",
)
project_pages: tuple[list[URLPattern | URLResolver], str] = (
    [*projects_urls.urlpatterns, *events_urls.timeline_patterns],
    "projects",
)
# /usage/ is one `usage` namespace: the usage page (composed in config/views.py from billing,
# events, projects and usage, all below config) and usage's CSV export.
usage_pages: tuple[list[URLPattern | URLResolver], str] = (
    [path("", views.usage_overview, name="overview"), *usage_urls.urlpatterns],
    "usage",
)

urlpatterns = [
    path("", views.dashboard_home, name="home"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("handoff/<str:token>/", organization_views.handoff_consume, name="handoff"),
    path("invite/<str:token>/", organization_views.invitation_accept, name="invitation_accept"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("agenda/", include((events_urls.agenda_patterns, "agenda"))),
    path("projects/", include(project_pages)),
    path("search/", include((events_urls.search_patterns, "search"))),
    path("inbox/", include(inbox_pages)),
    path("feeds/", include((events_urls.feed_patterns, "feeds"))),
    path("usage/", include(usage_pages)),
    path("billing/", include("billing.urls")),
    # Bearer-key auth, not sessions (api/auth.py); api/ is the JSON API, the keys page sits under settings/.
    path("api/v1/", api_v1.urls),
    path("settings/api-keys/", include("api.urls")),
    path("", include("organizations.urls")),
]

# The error pages in the app's own layout with a way back (config/errors.py).
handler403 = "config.errors.error_403"
handler404 = "config.errors.error_404"
handler500 = "config.errors.error_500"
