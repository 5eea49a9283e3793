"""One received email: headers, text (with the evidence of an event highlighted), its HTML in a
sandboxed frame, attachments, the events it produced (or that wait for it to be filed), its
project with the controls to file or move it, and its processing history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from events import processing
from events.ingest import sanitize_html
from events.models import Attachment, Email, EmailState, FilingState
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
from events.views_inbox import REPROCESS_EMAIL_STATES
from organizations.access import workspace_view
from organizations.models import Role
from organizations.storage import StorageUnavailable, file_open, file_response
from projects.selectors import project_filing_choices

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


def reprocess_service() -> Callable[..., Any] | None:
    """The inbound pipeline's re-process service, once it exists (events.processing.email_reprocess)."""
    service = getattr(processing, "email_reprocess", None)
    return service if callable(service) else None


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
def email_detail(request: HttpRequest, code: str) -> HttpResponse:
    email = email_get(code)
    events = list(email.events.all())
    confirmed = email_confirmed_events(email)
    highlighted, evidence = email_highlight(events, confirmed, request.GET.get("highlight", ""))
    segments = evidence_split(email.text, evidence) if highlighted else None
    # From search (?q=): the query's words marked in the text, unless an evidence sentence is.
    search_query = request.GET.get("q", "")[:200].strip()
    search_parts = text_matches(email.text, search_query) if search_query and not highlighted else None
    membership = request.membership  # type: ignore[attr-defined]
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
        "can_reprocess": membership.has_role(Role.ADMIN)
        and reprocess_service() is not None
        and email.state in REPROCESS_EMAIL_STATES,
        **_filing_panel(email, can_file=membership.has_role(Role.MEMBER), here=request.path),
    }
    return render(request, "events/email.html", context)


@workspace_view()
def email_attachment(request: HttpRequest, code: str, attachment_code: str) -> HttpResponse:
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


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def email_reprocess(request: HttpRequest, code: str) -> HttpResponse:
    email = get_object_or_404(Email, code=code)
    service = reprocess_service()
    if service is None:
        raise Http404("Re-processing is not available")
    if email.state not in REPROCESS_EMAIL_STATES:
        messages.info(request, "This email is already waiting to be processed.")
    elif service(schema_name=connection.schema_name, email_id=email.pk):  # type: ignore[attr-defined]
        messages.success(request, "The email was queued to be processed again.")
    else:
        messages.info(request, "This email is already waiting to be processed.")
    return redirect("events:email", code=email.code)
