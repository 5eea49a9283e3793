"""Everything under /anymail/: our Postmark and SES inbound views, and anymail's own views only for
the ESPs named in INBOUND_ANYMAIL_ESPS (default none). Every other anymail URL answers 404,
so an ESP nobody configured cannot be posted to (anymail's views answer 500 without their
settings) and tracking webhooks nobody uses are not there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from inbound import views


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
