"""The inbox's actions on mail that waits for an admin (inbound.review): release or delete held mail,
trust its sender's domain; allow a refused sender or its domain, then bring the kept message in.

Plain POST forms that redirect back to the inbox, so they work without JavaScript; admins only.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from events.models import Email, EmailState, HoldCause
from inbound import review
from inbound.kept import kept_until
from inbound.models import Delivery
from organizations.access import WorkspaceRequest, for_organization, request_organization, workspace_view
from organizations.models import Role
from organizations.sender_policy import sender_allow, trusted_domain_add


def _back_to_review(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("events:inbox") + "#review")


# The access check comes first, so strangers learn nothing from a 405.
@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def held_release(request: WorkspaceRequest, code: str) -> HttpResponse:
    organization = request_organization(request)
    get_object_or_404(Email.objects.only("pk"), code=code)
    if review.held_email_release(organization=organization, code=code, actor=request.user):
        messages.success(request, "Released: the email is processed now, as any other mail of this workspace.")
    else:
        messages.info(request, "That email is no longer held.")
    return _back_to_review(request)


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def held_delete(request: WorkspaceRequest, code: str) -> HttpResponse:
    organization = request_organization(request)
    get_object_or_404(Email.objects.only("pk"), code=code)
    if review.held_email_delete(organization=organization, code=code, actor=request.user):
        messages.success(request, "The held email was deleted.")
    else:
        messages.info(request, "That email is no longer held.")
    return _back_to_review(request)


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def held_trust_domain(request: WorkspaceRequest, code: str) -> HttpResponse:
    organization = request_organization(request)
    email = get_object_or_404(
        Email.objects.only("from_address"),
        code=code,
        state=EmailState.HELD,
        hold_cause=HoldCause.SENDER_NOT_AUTHENTICATED,
    )
    try:
        trusted = trusted_domain_add(
            organization=organization, domain=email.from_address.rpartition("@")[2], actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_review(request)
    messages.success(
        request,
        f"Mail from {trusted.domain} now counts as authenticated without SPF, DKIM or DMARC (Settings lists it). "
        "Mail already held stays held until you release it.",
    )
    return _back_to_review(request)


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def refused_allow(request: WorkspaceRequest, pk: int) -> HttpResponse:
    organization = request_organization(request)
    delivery = review.refused_delivery(organization=organization, pk=pk)
    if delivery is None:
        raise Http404("No such refused message")
    pattern = review.refused_pattern(delivery, whole_domain=request.POST.get("scope") == "domain")
    try:
        allowed = sender_allow(organization=organization, pattern=pattern, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_review(request)
    text = f"{allowed.pattern} may now send."
    if allowed.policy_widened:
        text += " The workspace accepted members only; it now accepts members and the allow-list."
    messages.success(request, text)
    return redirect("events:refused_offer", pk=delivery.pk)


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
def refused_offer(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """After allowing its sender: bring the refused message in?"""
    organization = request_organization(request)
    delivery = review.refused_delivery(organization=organization, pk=pk)
    if delivery is None:
        raise Http404("No such refused message")
    return render(
        request,
        "inbound/refused_offer.html",
        {
            "delivery": delivery,
            "kept_until": kept_until(delivery),
            "allowed_now": review.sender_may_send(organization, delivery),
        },
    )


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def refused_bring_in(request: WorkspaceRequest, pk: int) -> HttpResponse:
    organization = request_organization(request)
    get_object_or_404(for_organization(Delivery.objects.only("pk"), organization), pk=pk)
    try:
        brought = review.refused_message_bring_in(organization=organization, pk=pk, actor=request.user)
    except review.ReviewError as error:
        messages.error(request, str(error))
        return _back_to_review(request)
    outcome = brought.outcome
    if outcome.stored and outcome.delivery.email_code is not None:
        messages.success(request, f"Brought in: {outcome.delivery.subject or 'the message'} ({outcome.verdict}).")
        return redirect("events:email", code=outcome.delivery.email_code)
    messages.info(request, f"Not brought in: {outcome.reason}")
    return _back_to_review(request)
