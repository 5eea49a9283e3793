"""The usage ledger's CSV export. The usage page itself is composed in config/views.py: it shows
the ledger against billing's plan limits, with events' held mail and projects' open count, and
usage sits below all three."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse

from organizations.access import WorkspaceRequest, request_organization, workspace_view
from usage.selectors import usage_daily

CHART_DAYS = (30, 90)


def chart_days(request: HttpRequest) -> int:
    """The days asked for in `?days=` (30 or 90), 30 otherwise."""
    value = request.GET.get("days", "")
    return int(value) if value.isdigit() and int(value) in CHART_DAYS else CHART_DAYS[0]


@workspace_view()
def usage_export(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    days = chart_days(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{organization.slug}-{days}d.csv"'
    writer = csv.writer(response)
    writer.writerow(["day", "emails", "ai_cost_usd"])
    for day in usage_daily(organization, days=days):
        writer.writerow([day.day.isoformat(), day.emails, f"{day.cost_usd:.6f}"])
    return response
