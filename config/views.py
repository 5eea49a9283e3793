from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from organizations.access import workspace_view


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("workspace_list")
    return render(request, "landing.html")


@workspace_view()
def dashboard_home(request: HttpRequest) -> HttpResponse:
    return redirect("projects:list")
