from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing import services
from billing.forms import BillingSettingsForm
from billing.models import Plan
from billing.selectors import Limits, billing_standing, recent_invoices, request_snapshot
from billing.selectors_state import billing_state
from billing.stripe_api import price_for_plan, stripe_configured
from organizations.access import WorkspaceRequest, request_organization, workspace_view
from organizations.models import Role


@workspace_view(Role.ADMIN)
def billing_overview(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    if request.GET.get("checkout") == "success":
        messages.success(request, "Thank you. The plan changes as soon as Stripe confirms the payment.")
    snapshot = request_snapshot(request, organization)
    state = billing_state(organization, snapshot)
    configured = stripe_configured()
    plans = [
        (
            plan,
            configured and bool(price_for_plan(plan.code)) and (plan.code != organization.plan or not state.subscribed),
            # The current plan's card shows the limits in force (staff may have set this workspace's own).
            snapshot.limits
            if plan.code == organization.plan
            else Limits(plan.email_limit, plan.project_limit, plan.ai_budget_usd),
        )
        for plan in Plan.objects.all()
    ]
    subject = quote(f"Projectr Enterprise for {organization.name}")
    return render(
        request,
        "billing/overview.html",
        {
            "snapshot": snapshot,
            "state": state,
            "contact_url": f"mailto:{settings.PROJECTR_SALES_EMAIL}?subject={subject}"
            if settings.PROJECTR_SALES_EMAIL
            else "",
            "standing": billing_standing(organization),
            "plans": plans,
            "stripe_configured": configured,
            "invoices": recent_invoices(organization),
            "settings_form": BillingSettingsForm(
                initial={
                    "ai_budget_action": organization.ai_budget_action,
                    "overage_enabled": organization.overage_enabled,
                }
            ),
        },
    )


def _return_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("billing:overview"))


@workspace_view(Role.ADMIN)
@require_POST
def billing_checkout(request: WorkspaceRequest, plan_code: str) -> HttpResponse:
    organization = request_organization(request)
    try:
        session = services.checkout_session_create(
            organization=organization, plan_code=plan_code, return_url=_return_url(request)
        )
    except services.BillingError as exc:
        messages.error(request, str(exc))
        return redirect("billing:overview")
    return HttpResponseRedirect(session.url)


@workspace_view(Role.ADMIN)
@require_POST
def billing_portal(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    try:
        session = services.portal_session_create(organization=organization, return_url=_return_url(request))
    except services.BillingError as exc:
        messages.error(request, str(exc))
        return redirect("billing:overview")
    return HttpResponseRedirect(session.url)


@workspace_view(Role.ADMIN)
@require_POST
def billing_settings(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    form = BillingSettingsForm(request.POST)
    if form.is_valid():
        services.billing_settings_update(
            organization=organization,
            ai_budget_action=form.cleaned_data["ai_budget_action"],
            overage_enabled=form.cleaned_data["overage_enabled"],
        )
        messages.success(request, "Saved.")
    else:
        messages.error(request, "Choose what happens when the AI budget is used up.")
    return redirect("billing:overview")
