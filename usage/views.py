from __future__ import annotations

import csv
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers

# The usage page shows usage against the plan, so it reads plan limits from billing and the
# open projects the project limit counts from projects. These are the places usage looks at
# billing and projects (a view, read-only); usage's services and selectors never do, keeping
# the import flow of DESIGN.md §3 for everything the pipeline calls.
from billing.selectors import request_snapshot
from organizations.access import request_organization, workspace_view
from projects.selectors import open_project_count
from usage.charts import daily_chart
from usage.selectors import held_email_count, usage_by_model, usage_daily

CHART_DAYS = (30, 90)


def _days(request: HttpRequest) -> int:
    value = request.GET.get("days", "")
    return int(value) if value.isdigit() and int(value) in CHART_DAYS else CHART_DAYS[0]


@workspace_view()
def usage_overview(request: HttpRequest) -> HttpResponse:
    organization = request_organization(request)
    days = _days(request)
    snapshot = request_snapshot(request, organization)
    elapsed = snapshot.period.elapsed_share(timezone.now())
    projection = (snapshot.ai_cost_usd / Decimal(str(elapsed))).quantize(Decimal("0.01")) if elapsed > 0 else None
    daily = usage_daily(organization, days=days)
    # htmx switches the chart between 30 and 90 days in place; the plain link reloads the page.
    template = "usage/overview.html#daily" if getattr(request, "htmx", False) else "usage/overview.html"
    response = render(
        request,
        template,
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
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@workspace_view()
def usage_export(request: HttpRequest) -> HttpResponse:
    organization = request_organization(request)
    days = _days(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{organization.slug}-{days}d.csv"'
    writer = csv.writer(response)
    writer.writerow(["day", "emails", "ai_cost_usd"])
    for day in usage_daily(organization, days=days):
        writer.writerow([day.day.isoformat(), day.emails, f"{day.cost_usd:.6f}"])
    return response
