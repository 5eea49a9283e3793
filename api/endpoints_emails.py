"""/api/v1/emails: received mail and its processing state. Never the raw MIME message."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from api.auth import api_access
from api.pagination import cursor_param, limit_param, pk_cursor_decode, pk_page
from api.schemas import ERRORS, EmailDetailOut, EmailPage, EmailStateName, ReprocessOut
from events.models import Email
from events.processing import email_reprocess
from events.selectors import email_get

router = Router(tags=["emails"])


@router.get("/emails", response={200: EmailPage, **ERRORS}, summary="List received emails, newest first")
def emails_list(
    request: HttpRequest,
    state: EmailStateName | None = None,
    project: UUID | None = None,
    cursor: str = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, object]:
    """Newest first by arrival (id), so mail arriving while a client pages lands before its cursor."""
    api_access(request)
    before = pk_cursor_decode("email", cursor)
    emails = Email.objects.select_related("project").defer("text", "html", "headers").order_by("-pk")
    if state:
        emails = emails.filter(state=state)
    if project:
        emails = emails.filter(project__code=project)
    if before is not None:
        emails = emails.filter(pk__lt=before)
    return pk_page(emails, kind="email", limit=limit)


@router.get("/emails/{code}", response={200: EmailDetailOut, **ERRORS}, summary="An email")
def email_detail(request: HttpRequest, code: UUID) -> Email:
    """Headers, text, sanitised HTML, attachments (metadata), its live events and processing log."""
    api_access(request)
    return email_get(code)


@router.post(
    "/emails/{code}/reprocess", response={202: ReprocessOut, 409: ReprocessOut, **ERRORS}, summary="Process again"
)
def email_reprocess_view(request: HttpRequest, code: UUID) -> Status[dict[str, object]]:
    """Queue the email for extraction again (its hand-edited events are kept); 409 while it is already queued."""
    api_key = api_access(request, write=True)
    email = Email.objects.filter(code=code).only("pk").first()
    if email is None:
        raise HttpError(404, "No email with this code.")
    if email_reprocess(schema_name=api_key.organization.schema_name, email_id=email.pk):
        return Status(202, {"queued": True, "detail": "Queued for processing."})
    return Status(409, {"queued": False, "detail": "It is already queued or being processed."})
