"""Pages that belong to no single app: the landing page, the workspace home, and the usage page,
which composes the usage ledger with billing's plan limits, events' held mail and projects' open
count (usage sits below all three, so the page is put together here, on top)."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from billing.selectors import request_snapshot
from config.htmx import render_page
from events.selectors import held_email_count
from organizations.access import WorkspaceRequest, request_organization, workspace_view
from projects.selectors import open_project_count
from usage.charts import daily_chart
from usage.selectors import usage_by_model, usage_daily
from usage.views import CHART_DAYS, chart_days


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("workspace_list")
    return render(request, "landing.html")


@workspace_view()
def dashboard_home(request: WorkspaceRequest) -> HttpResponse:
    """The workspace's landing page (where sign-in leads) is the agenda."""
    return redirect("agenda:index")


@workspace_view()
def usage_overview(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    days = chart_days(request)
    snapshot = request_snapshot(request, organization)
    elapsed = snapshot.period.elapsed_share(timezone.now())
    projection = (snapshot.ai_cost_usd / Decimal(str(elapsed))).quantize(Decimal("0.01")) if elapsed > 0 else None
    daily = usage_daily(organization, days=days)
    # htmx switches the chart between 30 and 90 days in place; the plain link reloads the page.
    return render_page(
        request,
        "usage/overview.html",
        {
            "snapshot": snapshot,
            "held": held_email_count(),
            "projects": open_project_count(),
            "projection": projection,
            "days": days,
            "chart_days": CHART_DAYS,
            "chart": daily_chart(daily),
            "daily": daily,
            "models": usage_by_model(organization, start=snapshot.period.start, end=snapshot.period.end),
        },
        partial="daily",
    )
