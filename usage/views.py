from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from organizations.access import workspace_view


@workspace_view()
def usage_overview(request: HttpRequest) -> HttpResponse:
    return render(request, "usage/overview.html", {})
