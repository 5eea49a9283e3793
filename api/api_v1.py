"""The JSON API, version 1, mounted at /api/v1/ on every workspace host (config/urls_tenant.py).

django-ninja builds the OpenAPI schema (/api/v1/openapi.json) from the type hints and
serves Swagger UI (/api/v1/docs) from its own static files, since "ninja" is an installed
app: no CDN. See docs/api.md.
"""

from __future__ import annotations

from ninja import NinjaAPI, Swagger

from api import endpoints_account, endpoints_emails, endpoints_events, endpoints_projects, errors
from api.auth import ApiKeyAuth, ApiKeyThrottle

api = NinjaAPI(
    title="Projectr API",
    version="1",
    description=(
        "Projects, timeline events, received mail, usage and the subscription of one workspace. "
        "Authenticate with `Authorization: Bearer <key>` (keys: Settings → API keys). "
        "Lists use cursor pagination: pass `next_cursor` back as `cursor`."
    ),
    urls_namespace="api",
    auth=ApiKeyAuth(),
    throttle=ApiKeyThrottle(),
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api, body_params={"payload"})
api.add_router("", endpoints_projects.router)
api.add_router("", endpoints_events.router)
api.add_router("", endpoints_emails.router)
api.add_router("", endpoints_account.router)
