"""htmx in one place: django-htmx's middleware sets `request.htmx`; `render_page` picks the page or
one of its inline partials (`template#partial`, django-template-partials) from it, and sends
`Vary: HX-Request`, because the same URL answers with a fragment or a page and caches must keep
them apart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    """A request that went through django-htmx's HtmxMiddleware (for type checkers)."""

    htmx: HtmxDetails


def render_page(
    request: HtmxRequest,
    template: str,
    context: Mapping[str, Any],
    *,
    partial: str | None = None,
    status: int | None = None,
) -> HttpResponse:
    """`template`, or only its `partial` when htmx asked for it."""
    name = f"{template}#{partial}" if partial and request.htmx else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
