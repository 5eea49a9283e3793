"""One received email: headers, text (with the evidence of an event highlighted), its HTML in a
sandboxed frame, attachments, the events it produced (or that wait for it to be filed), its
project with the controls to file or move it, and its processing history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.htmx import render_page
from events.ingest import sanitize_html
from events.models import NEEDS_ATTENTION_STATES, PENDING_STATES, Attachment, Email, EmailState, FilingState
from events.processing import email_reprocess as email_reprocess_service
from events.processing import emails_reprocess
from events.selectors import (
    FilingRow,
    email_confirmed_events,
    email_filing_latest,
    email_get,
    email_highlight,
    evidence_split,
    filing_rows,
)
from events.selectors_search import text_matches
from events.views_filing import INBOX_ROW_FIELDS, can_file, filing_menu
from organizations.access import WorkspaceRequest, request_organization, workspace_view
from organizations.models import Role
from organizations.storage import StorageUnavailable, file_open, file_response
from projects.selectors import project_filing_choices

# Where re-processing is offered (docs/dashboard.md "Inbox"). On an inbox row: mail that produced
# nothing and may do better on another try (failed, held, ignored as noise). Processed mail has
# its events on a timeline and people may have edited them: running it again is a considered step,
# offered on the email page, which says what it does. Never mail still in flight (queued, in a
# batch, processing): it is about to be processed anyway.
REPROCESS_ROW_STATES = (*NEEDS_ATTENTION_STATES, EmailState.IGNORED)
REPROCESS_EMAIL_STATES = (*REPROCESS_ROW_STATES, EmailState.PROCESSED)

# The page's head shows From, Date and Subject and its header list To, Cc and Message-ID from the
# parsed fields; of the raw headers only these are added, so nothing is listed twice.
EXTRA_HEADERS = ("reply-to",)

# The frame has no scripts, no same-origin access and this CSP: nothing remote loads.
FRAME_HEAD = (
    '<!doctype html><html><head><meta charset="utf-8">'
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    '<base target="_blank">'
    "<style>body{font:15px/1.5 system-ui,sans-serif;color:#1f2937;margin:0;padding:1rem;word-wrap:break-word}"
    "table{border-collapse:collapse}td,th{padding:2px 6px}blockquote{border-left:3px solid #ddd;margin-left:0;"
    "padding-left:.75rem;color:#555}</style></head><body>"
)


def email_frame_document(html: str) -> str:
    """The srcdoc of the sandboxed frame. The stored HTML was sanitised at ingest; sanitise it again
    here so a bug or an old row can never put active content on the page."""
    return f"{FRAME_HEAD}{sanitize_html(html)}</body></html>"


def _reason_unlogged(email: Email) -> str:
    """The state's reason, unless the last log row already says it (it usually does)."""
    logs = list(email.logs.all())  # prefetched by email_get
    return "" if logs and logs[-1].message == email.state_reason else email.state_reason


def _filing_panel(email: Email, *, can_file: bool, here: str) -> dict[str, Any]:
    """Where the email stands with projects: an unfiled one with its suggestions and waiting
    events, the latest filing (for its Undo), and every open project to file or move it to."""
    unfiled = email.filing == FilingState.UNFILED
    fileable = can_file and (email.state == EmailState.PROCESSED or email.project_id is not None or unfiled)
    return {
        "filing_row": filing_rows([email])[0] if unfiled else FilingRow(email=email, suggestions=[], events=[]),
        "latest_filing": email_filing_latest(email),
        "choices": list(project_filing_choices()) if fileable else [],
        "can_file": fileable,
        "shown_in": "email",
        "here": here,
    }


@workspace_view()
def email_detail(request: WorkspaceRequest, code: str) -> HttpResponse:
    email = email_get(code)
    events = list(email.events.all())
    confirmed = email_confirmed_events(email)
    highlighted, evidence = email_highlight(events, confirmed, request.GET.get("highlight", ""))
    segments = evidence_split(email.text, evidence) if highlighted else None
    # From search (?q=): the query's words marked in the text, unless an evidence sentence is.
    search_query = request.GET.get("q", "")[:200].strip()
    search_parts = text_matches(email.text, search_query) if search_query and not highlighted else None
    membership = request.membership
    context = {
        "email": email,
        "events": events,
        "confirmed": confirmed,
        "highlighted": highlighted,
        "evidence": evidence,
        "segments": segments,
        "search_query": search_query,
        "search_parts": search_parts,
        "frame_document": email_frame_document(email.html) if email.html else "",
        "extra_headers": [(n, v) for n, v in email.headers if str(n).lower() in EXTRA_HEADERS],
        "reason_unlogged": _reason_unlogged(email),
        "can_reprocess": membership.has_role(Role.ADMIN) and email.state in REPROCESS_EMAIL_STATES,
        **_filing_panel(email, can_file=membership.has_role(Role.MEMBER), here=request.path),
    }
    return render(request, "events/email.html", context)


@workspace_view()
def email_attachment(request: WorkspaceRequest, code: str, attachment_code: str) -> HttpResponse:
    """Download only (never rendered inline): attachments are untrusted files."""
    attachment = get_object_or_404(Attachment, code=attachment_code, email__code=code)
    if not attachment.file:
        raise Http404("This attachment was not stored")
    try:
        # Streamed from the disk or the bucket; the decorator's type only knows HttpResponse.
        return file_response(file_open(str(attachment.file.name)), filename=attachment.filename or "attachment")  # type: ignore[return-value]
    except FileNotFoundError as missing:
        raise Http404("This attachment was not stored") from missing
    except StorageUnavailable:
        return HttpResponse(
            "The file storage is unavailable; try again in a minute.", status=503, content_type="text/plain"
        )


# The access check comes first, so strangers learn nothing from a 405.
@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def email_reprocess(request: WorkspaceRequest, code: str) -> HttpResponse:
    """Re-process one email, from its page or its inbox row (`shown_in=inbox`). From the inbox,
    htmx gets the row back; without JavaScript both go back to the page they came from."""
    email = get_object_or_404(Email.objects.only("pk", "code", "state"), code=code)
    from_inbox = request.POST.get("shown_in") == "inbox"
    waiting = "That email is already waiting to be processed."
    if email.state in PENDING_STATES:
        note, level = waiting, messages.INFO
    elif email.state not in (REPROCESS_ROW_STATES if from_inbox else REPROCESS_EMAIL_STATES):
        # A stale inbox row: processed mail is offered on its page, with its caveat.
        note = f"That email is {email.get_state_display().lower()}; there is nothing to re-process here."
        level = messages.INFO
    elif email_reprocess_service(schema_name=request_organization(request).schema_name, email_id=email.pk):
        note, level = "The email was queued to be processed again.", messages.SUCCESS
    else:  # another admin (or the worker) got there first
        note, level = waiting, messages.INFO
    if from_inbox and request.htmx:
        return _inbox_row(request, email, note=note)
    messages.add_message(request, level, note)
    return redirect("events:inbox") if from_inbox else redirect("events:email", code=email.code)


def _inbox_row(request: WorkspaceRequest, email: Email, *, note: str) -> HttpResponse:
    context = {
        "e": Email.objects.select_related("project").only(*INBOX_ROW_FIELDS).get(pk=email.pk),
        "reprocess_note": note,
        "reprocess_states": REPROCESS_ROW_STATES,
        "can_reprocess": True,
        "can_file": can_file(request),
        "here": reverse("events:inbox"),
        **filing_menu(request),
    }
    return render_page(request, "events/inbox.html", context, partial="row")


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def inbox_reprocess_all(request: WorkspaceRequest) -> HttpResponse:
    """Every failed and held email, from the inbox's button."""
    moved = emails_reprocess(schema_name=request_organization(request).schema_name, states=NEEDS_ATTENTION_STATES)
    messages.success(request, f"{len(moved)} failed or held emails were queued to be processed again.")
    return redirect("events:inbox")
