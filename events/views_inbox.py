"""The inbox's actions for admins: re-process one email, or all that need a person. The inbox page
itself is inbound's (inbound/views_inbox.py): it shows inbound's refused deliveries too."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from events.models import NEEDS_ATTENTION_STATES, Email, EmailState
from events.processing import email_reprocess, emails_reprocess
from organizations.access import request_organization, workspace_view
from organizations.models import Role

# Where re-processing applies (docs/dashboard.md "Inbox"). On an inbox row:
# mail that produced nothing and may do better on another try (failed, held, ignored as noise).
# Not processed mail: its events are on a timeline and people may have edited them; running it
# again is a considered step, offered on the email page, which says what it does. Never mail
# still in flight (queued, in a batch, processing): it is about to be processed anyway.
REPROCESS_ROW_STATES = (*NEEDS_ATTENTION_STATES, EmailState.IGNORED)
REPROCESS_EMAIL_STATES = (*REPROCESS_ROW_STATES, EmailState.PROCESSED)


# The access check comes first, so strangers learn nothing from a 405.
@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def inbox_reprocess(request: HttpRequest, code: str) -> HttpResponse:
    organization = request_organization(request)
    email = get_object_or_404(Email.objects.only("pk", "code", "state"), code=code)
    if email.state not in REPROCESS_ROW_STATES:
        # A stale page: the row has moved on (or processed mail, whose page offers it with its caveat).
        messages.info(
            request,
            f"That email is {email.get_state_display().lower()}; there is nothing to re-process from the inbox.",
        )
    elif email_reprocess(schema_name=organization.schema_name, email_id=email.pk):
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
