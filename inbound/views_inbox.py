"""The inbox: every received email with its processing state and project (members move it to another
project from its row), and (for admins) the deliveries inbound refused.

It lives in inbound, not events, because it reads inbound's delivery log beside events' mail;
its re-process actions are events' (events/views_inbox.py). config/urls_tenant.py mounts it at
/inbox/ as `events:inbox`, with the rest of /inbox/.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from events.ai_batches import batch_rows_mark, inbox_batches
from events.models import NEEDS_ATTENTION_STATES, PENDING_STATES, Email, EmailState
from events.views_filing import INBOX_ROW_FIELDS, can_file, filing_menu, just_filed
from inbound.models import Delivery, Verdict
from organizations.access import for_organization, request_organization, workspace_view
from organizations.models import Role

PAGE_SIZE = 50
REFUSED_SHOWN = 20


@workspace_view()
def inbox(request: HttpRequest) -> HttpResponse:
    organization = request_organization(request)
    state = request.GET.get("state", "")
    emails = Email.objects.select_related("project").only(*INBOX_ROW_FIELDS)
    if state in EmailState.values:
        emails = emails.filter(state=state)
    page = Paginator(emails.order_by("-received_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    is_admin = request.membership.has_role(Role.ADMIN)  # type: ignore[attr-defined]
    batches = inbox_batches(organization)
    batch_rows_mark(rows, batches)
    context = {
        "page": page,
        "emails": rows,
        "state": state,
        "pending": any(email.state in PENDING_STATES for email in rows),
        # A Message Batch takes minutes to hours: its rows are asked about every 30 s, not 3 s.
        "refresh": "3s"
        if any(email.state in PENDING_STATES and email.state != EmailState.BATCHED for email in rows)
        else "30s",
        "batches": batches,
        "can_reprocess": is_admin,
        "can_file": can_file(request),
        "here": request.get_full_path(),
        **filing_menu(request),
    }
    if getattr(request, "htmx", False):
        response = render(request, "events/inbox.html#rows", context)
    else:
        counts = dict(Email.objects.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
        context["states"] = [(choice, label, counts.get(choice, 0)) for choice, label in EmailState.choices]
        context["total"] = sum(counts.values())
        context["just_filed"] = just_filed(request)
        context["needs_attention"] = sum(counts.get(s, 0) for s in NEEDS_ATTENTION_STATES)
        context["refused"] = (
            list(
                for_organization(Delivery.objects.all(), organization)
                .filter(verdict__in=[Verdict.REJECTED, Verdict.IGNORED, Verdict.INVALID], email_code=None)
                .only(
                    "created_at",
                    "sender",
                    "recipient",
                    "subject",
                    "verdict",
                    "reason",
                    "provider",
                    "authentication",
                    "authentication_detail",
                )
                .order_by("-created_at")[:REFUSED_SHOWN]
            )
            if is_admin
            else []
        )
        response = render(request, "events/inbox.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response
