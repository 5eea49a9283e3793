"""Filing by hand: the Unfiled list, and filing, moving or dismissing an email and undoing that,
from Unfiled, the inbox or the email page. Every action works as a plain POST + redirect; with
htmx the row is swapped in place: a one-line confirmation with Undo, or the row with the error."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from config.htmx import render_page
from events import filing as filing_services
from events.forms_filing import EmailFileForm, FilingPlaceForm, FilingUndoForm
from events.models import Email, EmailFiling, FilingState
from events.selectors import UNFILED_FIELDS, email_filing_latest, filing_rows, unfiled_emails
from organizations.access import WorkspaceRequest, workspace_view
from organizations.models import Role
from projects.selectors import project_filing_menu
from projects.services import ProjectError

if TYPE_CHECKING:
    pass

PAGE_SIZE = 50
# Open projects offered in each row's select on a list page (the most recently active); the
# email page offers every open project.
MENU_SIZE = 30
INBOX_ROW_FIELDS = (
    "code", "subject", "from_address", "from_name", "received_at", "state", "state_reason", "filing",
    "project__name", "project__code",
)  # fmt: skip


def can_file(request: WorkspaceRequest) -> bool:
    return request.membership.has_role(Role.MEMBER)


def filing_menu(request: WorkspaceRequest) -> dict[str, Any]:
    """The projects each row's select offers (none for viewers, who cannot file)."""
    if not can_file(request):
        return {"choices": [], "more_projects": False}
    choices, more = project_filing_menu(limit=MENU_SIZE)
    return {"choices": choices, "more_projects": more}


def just_filed(request: HttpRequest) -> EmailFiling | None:
    """The filing a page offers to undo after a filing without JavaScript (`?filed=<email code>`)."""
    try:
        code = uuid.UUID(request.GET.get("filed", ""))
    except ValueError:
        return None
    return email_filing_latest(code=code)


def with_param(url: str, key: str, value: str = "") -> str:
    """`url` with its `key` query parameter set to `value` (removed when empty)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != key]
    if value:
        query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _back(request: HttpRequest, email: Email, next_url: str) -> str:
    """Where a filing without JavaScript returns to: the page it came from (this host only)."""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return reverse("events:email", args=[email.code])


@workspace_view()
def unfiled(request: WorkspaceRequest) -> HttpResponse:
    page = Paginator(unfiled_emails(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": filing_rows(list(page.object_list)),
        "can_file": can_file(request),
        "just_filed": just_filed(request),
        "here": request.get_full_path(),
        # The nav's count is the paginator's (one COUNT fewer).
        "unfiled_count": page.paginator.count,
        **filing_menu(request),
    }
    return render(request, "events/unfiled.html", context)


@workspace_view(Role.MEMBER)
@require_POST
def email_file(request: WorkspaceRequest, code: str) -> HttpResponse:
    email = get_object_or_404(
        Email.objects.select_related("project").only("code", "subject", "project__name"), code=code
    )
    form = EmailFileForm(request.POST)
    if not form.is_valid():
        return _answer(request, email, form, error=form.error_text())
    try:
        project = filing_services.email_file(email=email, actor=request.user, **form.filing())
    except (ProjectError, filing_services.FilingError) as error:
        return _answer(request, email, form, error=str(error))
    except ValidationError as error:  # the new project's name or client did not validate
        return _answer(request, email, form, error=" ".join(error.messages))
    if project is None:
        done = "Marked as not project mail."
    elif email.project is not None and email.project.pk != project.pk:
        done = f"Moved from {email.project.name} to {project.name}."
    else:
        done = f"Filed into {project.name}."
    return _answer(request, email, form, done=done, filed=True)


@workspace_view(Role.MEMBER)
@require_POST
def email_filing_undo(request: WorkspaceRequest, code: str) -> HttpResponse:
    email = get_object_or_404(Email.objects.only("code", "subject"), code=code)
    form = FilingUndoForm(request.POST)
    if not form.is_valid():
        return _answer(request, email, form, error="There is no filing to undo.")
    record = get_object_or_404(
        EmailFiling.objects.select_related("from_project"), pk=form.cleaned_data["filing"], email=email
    )
    try:
        previous = filing_services.email_filing_undo(filing=record, actor=request.user)
    except filing_services.FilingError as error:
        return _answer(request, email, form, error=str(error))
    if previous is not None:
        done = f"Undone: the email is back in {previous.name}."
    else:
        back = FilingState(record.from_filing or FilingState.UNFILED)
        done = f"Undone: the email is back in {back.label}." if back == FilingState.UNFILED else "Undone."
    return _answer(request, email, form, done=done)


def _answer(
    request: WorkspaceRequest,
    email: Email,
    form: FilingPlaceForm,
    *,
    error: str = "",
    done: str = "",
    filed: bool = False,
) -> HttpResponse:
    """Without JavaScript, back to the page the controls were on (with `?filed=` so it offers
    the Undo; the email page always does); with htmx, that page's row for the email."""
    shown_in, next_url = form.place()
    back = _back(request, email, next_url)
    if not request.htmx or shown_in == "email":
        if error:
            messages.error(request, error)
        elif shown_in == "email":
            messages.success(request, done)
        elif not filed:
            messages.success(request, f"“{email.subject or '(no subject)'}”: {done}")
        return redirect(with_param(back, "filed", str(email.code) if filed and shown_in != "email" else ""))
    context: dict[str, Any] = {
        "error": error,
        "filing": email_filing_latest(email) if filed else None,
        "here": back,
        "can_file": True,
        **filing_menu(request),
    }
    if shown_in == "inbox":
        context["e"] = Email.objects.select_related("project").only(*INBOX_ROW_FIELDS).get(pk=email.pk)
        context["can_reprocess"] = request.membership.has_role(Role.ADMIN)
        return render_page(request, "events/inbox.html", context, partial="row")
    context["row"] = filing_rows([Email.objects.only(*UNFILED_FIELDS).get(pk=email.pk)])[0]
    return render_page(request, "events/unfiled.html", context, partial="answer")
