"""The inbox's actions for admins: re-process one email, or all that need a person. The inbox page
itself is inbound's (inbound/views_inbox.py): it shows inbound's refused deliveries too."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from events.models import NEEDS_ATTENTION_STATES, Email
from events.processing import email_reprocess, emails_reprocess
from organizations.access import request_organization, workspace_view
from organizations.models import Role


# The access check comes first, so strangers learn nothing from a 405.
@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def inbox_reprocess(request: HttpRequest, code: str) -> HttpResponse:
    organization = request_organization(request)
    email = get_object_or_404(Email.objects.only("pk"), code=code)
    if email_reprocess(schema_name=organization.schema_name, email_id=email.pk):
        messages.success(request, "The email was queued to be processed again.")
    else:
        messages.info(request, "That email is already waiting to be processed.")
    return redirect("events:inbox")


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def inbox_reprocess_all(request: HttpRequest) -> HttpResponse:
    organization = request_organization(request)
    moved = emails_reprocess(schema_name=organization.schema_name, states=NEEDS_ATTENTION_STATES)
    messages.success(request, f"{len(moved)} failed or held emails were queued to be processed again.")
    return redirect("events:inbox")
