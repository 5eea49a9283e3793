from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing.models import Plan
from organizations.access import request_organization, workspace_view


@workspace_view()
def billing_overview(request: HttpRequest) -> HttpResponse:
    organization = request_organization(request)
    plan = Plan.objects.filter(code=organization.plan).first()
    return render(request, "billing/overview.html", {"plan": plan, "plans": Plan.objects.all()})
