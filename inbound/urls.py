"""Inbound's URLs, one list per host:

- `urlpatterns`, /anymail/ on the public host: our Postmark and SES inbound views, and anymail's
  own views only for the ESPs named in INBOUND_ANYMAIL_ESPS (default none). Every other anymail
  URL answers 404, so an ESP nobody configured cannot be posted to (anymail's views answer 500
  without their settings) and tracking webhooks nobody uses are not there.
- `inbox_patterns`, /inbox/ on a workspace host: the inbox page and its review actions.
  config/urls_tenant.py mounts them in the `events` namespace, beside events' pages for the mail
  (events.urls.inbox_patterns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from inbound import views, views_inbox, views_review


def _configured_only(esp: str, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if esp not in settings.INBOUND_ANYMAIL_ESPS:
            raise Http404("No such webhook")
        return view(request, *args, **kwargs)

    return guarded


def _esp_of(pattern: URLPattern) -> str:
    return str(pattern.pattern).lstrip("^").split("/")[0]


urlpatterns = [
    path("postmark/inbound/", views.postmark_inbound, name="inbound_postmark"),
    path("amazon_ses/inbound/", views.amazon_ses_inbound, name="inbound_amazon_ses"),
    *(
        URLPattern(
            pattern.pattern, _configured_only(_esp_of(pattern), pattern.callback), pattern.default_args, pattern.name
        )
        for pattern in anymail_urls.urlpatterns
        if isinstance(pattern, URLPattern) and "/inbound" in str(pattern.pattern)
    ),
]

inbox_patterns: list[URLPattern] = [
    path("", views_inbox.inbox, name="inbox"),
    path("held/<uuid:code>/release/", views_review.held_release, name="held_release"),
    path("held/<uuid:code>/delete/", views_review.held_delete, name="held_delete"),
    path("held/<uuid:code>/trust-domain/", views_review.held_trust_domain, name="held_trust_domain"),
    path("refused/<int:pk>/", views_review.refused_offer, name="refused_offer"),
    path("refused/<int:pk>/allow/", views_review.refused_allow, name="refused_allow"),
    path("refused/<int:pk>/bring-in/", views_review.refused_bring_in, name="refused_bring_in"),
]
