from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from organizations.access import workspace_view


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("workspace_list")
    return render(request, "landing.html")


@workspace_view()
def dashboard_home(request: HttpRequest) -> HttpResponse:
    return redirect("projects:list")


def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
