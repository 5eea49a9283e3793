"""Search: one box in the nav (templates/base.html; `/` focuses it, static/js/app.js), results
grouped by kind, each opening its object. A GET form: with htmx, typing on this page swaps the
results in place and pushes the address; without JS, Enter loads the page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from events.selectors_search import search
from organizations.access import workspace_view

MAX_QUERY_CHARS = 200


@workspace_view()
def search_page(request: HttpRequest) -> HttpResponse:
    results = search(request.GET.get("q", "")[:MAX_QUERY_CHARS])
    template = "events/search.html#results" if getattr(request, "htmx", False) else "events/search.html"
    response = render(request, template, {"results": results, "search_query": results.query})
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
