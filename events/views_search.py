"""Search: one box in the nav (templates/base.html; `/` focuses it, static/js/app.js), results
grouped by kind, each opening its object. A GET form: with htmx, typing on this page swaps the
results in place and pushes the address; without JS, Enter loads the page."""

from __future__ import annotations

from django.http import HttpResponse

from config.htmx import render_page
from events.selectors_search import search
from organizations.access import WorkspaceRequest, workspace_view

MAX_QUERY_CHARS = 200


@workspace_view()
def search_page(request: WorkspaceRequest) -> HttpResponse:
    results = search(request.GET.get("q", "")[:MAX_QUERY_CHARS])
    return render_page(
        request, "events/search.html", {"results": results, "search_query": results.query}, partial="results"
    )
