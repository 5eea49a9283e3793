"""/api/v1/emails: received mail, its processing state and its filing. Never the raw MIME message."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from api.auth import api_access
from api.errors import ApiFieldError
from api.pagination import cursor_param, limit_param, pk_cursor_decode, pk_page
from api.schemas import (
    ERRORS,
    SUGGESTIONS_ATTR,
    EmailDetailOut,
    EmailOut,
    EmailPage,
    EmailStateName,
    Error,
    FileIn,
    ReprocessOut,
)
from events.filing import FilingError, email_file
from events.models import PENDING_STATES, Email, FilingState
from events.processing import email_reprocess
from events.selectors import email_get, filing_rows
from projects.models import OPEN_STATUSES, Project
from projects.services import ProjectLimitError

router = Router(tags=["emails"])


def _with_suggestions(emails: list[Email]) -> list[Email]:
    """The dashboard's suggestions of the unfiled emails among `emails`: their projects read in one
    query for the whole page (events.selectors.filing_rows)."""
    for row in filing_rows([e for e in emails if e.filing == FilingState.UNFILED]):
        setattr(row.email, SUGGESTIONS_ATTR, row.suggestions)
    return emails


@router.get("/emails", response={200: EmailPage, **ERRORS}, summary="List received emails, newest first")
def emails_list(
    request: HttpRequest,
    state: EmailStateName | None = None,
    project: UUID | None = None,
    filed: bool | None = None,
    cursor: str = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, object]:
    """Newest first by arrival (id), so mail arriving while a client pages lands before its cursor.

    `filed=false`: the Unfiled mail that waits for a person, each with its suggestions and waiting
    events; `filed=true`: mail filed in a project.
    """
    api_access(request)
    before = pk_cursor_decode("email", cursor)
    emails = Email.objects.select_related("project").defer("text", "html", "headers").order_by("-pk")
    if state:
        emails = emails.filter(state=state)
    if project:
        emails = emails.filter(project__code=project)
    if filed is False:
        emails = emails.filter(filing=FilingState.UNFILED)
    elif filed is True:
        emails = emails.filter(project__isnull=False)
    if before is not None:
        emails = emails.filter(pk__lt=before)
    page = pk_page(emails, kind="email", limit=limit)
    _with_suggestions(page["items"])
    return page


@router.get("/emails/{code}", response={200: EmailDetailOut, **ERRORS}, summary="An email")
def email_detail(request: HttpRequest, code: UUID) -> Email:
    """Headers, text, sanitised HTML, attachments (metadata), its live events and processing log."""
    api_access(request)
    return _with_suggestions([email_get(code)])[0]


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


def _open_project(code: UUID) -> Project:
    project = Project.objects.filter(code=code, merged_into__isnull=True).first()
    if project is None:
        raise ApiFieldError("project", "no project with this code in this workspace.")
    if project.status not in OPEN_STATUSES:
        raise ApiFieldError("project", "that project is closed; reopen it or choose an open one.")
    return project


@router.post("/emails/{code}/file", response={200: EmailOut, 409: Error, **ERRORS}, summary="File or move an email")
def email_file_view(request: HttpRequest, code: UUID, payload: FileIn) -> Email:
    """File an unfiled email, or move a filed one with its events, as a person does on the dashboard
    (and it teaches the same way). 409 when a new project does not fit the plan, or while the
    email is being processed."""
    api_key = api_access(request, write=True)
    email = Email.objects.filter(code=code).first()
    if email is None:
        raise HttpError(404, "No email with this code.")
    chosen = [name for name in ("project", "new_project") if getattr(payload, name) is not None]
    chosen += ["not_project_mail"] if payload.not_project_mail else []
    if len(chosen) != 1:
        raise ApiFieldError("body", "give exactly one of project, new_project or not_project_mail: true.")
    if email.state in PENDING_STATES:
        raise HttpError(409, "This email is being processed; file it when that is done.")
    new_project = payload.new_project
    try:
        email_file(
            email=email,
            project=_open_project(payload.project) if payload.project is not None else None,
            new_project=new_project.dict() if new_project is not None else None,
            not_project_mail=payload.not_project_mail,
            actor=api_key.created_by,
        )
    except ProjectLimitError as exc:
        raise HttpError(409, str(exc)) from exc
    except FilingError as exc:
        raise HttpError(409, str(exc)) from exc
    except ValidationError as exc:  # the new project's fields, as the project service checks them
        field, messages = next(iter(exc.message_dict.items())) if hasattr(exc, "error_dict") else ("", exc.messages)
        field = {"client_name": "client", "__all__": ""}.get(field, field)
        raise ApiFieldError(f"new_project.{field}" if field else "new_project", " ".join(messages)) from exc
    return Email.objects.select_related("project").get(pk=email.pk)
