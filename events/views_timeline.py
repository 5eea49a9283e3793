"""The project timeline: filters, infinite scroll, and the event actions (add, inline edit,
done, delete with undo, move, accept or dismiss a suggestion). Every action works as a plain
POST + redirect; with htmx the row is swapped in place."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from config.htmx import render_page
from events import services
from events.exports import export_csv, export_data, export_json
from events.forms_timeline import EventForm, EventMoveForm, TimelineFilterForm
from events.models import Event
from events.selectors import event_get, event_get_any, timeline_page
from organizations.access import WorkspaceRequest, request_organization, workspace_view
from organizations.models import Role
from projects.models import Project
from projects.selectors import project_get

ROW = "events/timeline_row.html"
FILTER_PARAMS = ("kind", "when", "date_from", "date_to", "q")


def _can_edit(request: WorkspaceRequest) -> bool:
    return request.membership.has_role(Role.MEMBER)


def _timeline_url(project: Project, event: Event | None = None) -> str:
    url = reverse("projects:timeline", args=[project.code])
    return f"{url}#event-{event.code}" if event is not None else url


def _row(request: WorkspaceRequest, event: Event, partial: str = "row", **extra: Any) -> HttpResponse:
    """One row of the timeline, for htmx (the actions redirect without it)."""
    context = {"event": event, "project": event.project, "can_edit": _can_edit(request), **extra}
    return render_page(request, ROW, context, partial=partial)


@workspace_view()
def timeline(request: WorkspaceRequest, code: str) -> HttpResponse:
    project = project_get(code)
    if project.merged_into_id:
        return redirect("projects:timeline", code=project.merged_into.code)  # type: ignore[union-attr]
    filter_form = TimelineFilterForm(request.GET)
    filters = filter_form.to_filter()
    cursor = request.GET.get("cursor", "")
    page = timeline_page(project=project, filters=filters, cursor=cursor)
    base_query = urlencode({k: v for k, v in request.GET.items() if k in FILTER_PARAMS and v})
    context: dict[str, Any] = {
        "project": project,
        "page": page,
        "filter_form": filter_form,
        "filters": filters,
        "can_edit": _can_edit(request),
        "appending": bool(cursor) and request.htmx,
        "next_url": f"?{base_query}&cursor={page.next_cursor}" if base_query else f"?cursor={page.next_cursor}",
        "export_query": base_query,
    }
    if not request.htmx:
        context["event_form"] = EventForm(initial={"kind": "meeting"})
        deleted = request.GET.get("deleted")
        if deleted:
            deleted_code = _uuid(deleted)
            if deleted_code is not None:
                context["undo_event"] = Event.objects.filter(
                    project=project, code=deleted_code, deleted_at__isnull=False
                ).first()
    # The next page of the infinite scroll, or the results after a change of filters.
    return render_page(request, "events/timeline.html", context, partial="page" if cursor else "results")


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@workspace_view(Role.MEMBER)
@require_POST
def event_create(request: WorkspaceRequest, code: str) -> HttpResponse:
    project = project_get(code)
    form = EventForm(request.POST)
    if not form.is_valid():
        return render(request, "events/event_new.html", {"project": project, "event_form": form}, status=400)
    event = services.event_create(project=project, actor=request.user, **form.cleaned_data)
    messages.success(request, f"Event “{event.title}” added.")
    return redirect(_timeline_url(project, event))


@workspace_view()
def event_row(request: WorkspaceRequest, code: str, event_code: str) -> HttpResponse:
    event = event_get(project=project_get(code), code=event_code)
    if not request.htmx:
        return redirect(_timeline_url(event.project, event))
    return _row(request, event)


@workspace_view(Role.MEMBER)
def event_edit(request: WorkspaceRequest, code: str, event_code: str) -> HttpResponse:
    event = event_get(project=project_get(code), code=event_code)
    initial = {name: getattr(event, name) for name in services.EDITABLE_FIELDS}
    form = EventForm(request.POST or None, initial=initial, zone=event.timezone)
    if request.method == "POST" and form.is_valid():
        when = (event.date, event.time)
        services.event_update(event=event, actor=request.user, **form.cleaned_data)
        if request.htmx and (form.cleaned_data.get("date"), form.cleaned_data.get("time")) == when:
            return _row(request, event_get(project=event.project, code=event.code))
        if request.htmx:
            # A new date may put the event in another month or page: the timeline is loaded
            # again (with the filters in its address) rather than the row swapped in its old place.
            messages.success(request, "Event saved and moved to its new date.")
            return HttpResponseClientRefresh()
        messages.success(request, "Event saved.")
        return redirect(_timeline_url(event.project, event))
    context = {"form": form, "move_form": EventMoveForm(current=event.project)}
    status = 400 if form.errors else 200
    if request.htmx:
        response = _row(request, event, "edit", **context)
        response.status_code = 200  # htmx does not swap 4xx responses by default; the errors show in the form
        return response
    return render(
        request, "events/event_edit.html", {"event": event, "project": event.project, **context}, status=status
    )


@workspace_view(Role.MEMBER)
@require_POST
def event_done(request: WorkspaceRequest, code: str, event_code: str) -> HttpResponse:
    event = event_get(project=project_get(code), code=event_code)
    services.event_mark_done(event=event, actor=request.user, done=request.POST.get("done", "1") == "1")
    if request.htmx:
        return _row(request, event_get(project=event.project, code=event.code))
    return redirect(_timeline_url(event.project, event))


@workspace_view(Role.MEMBER)
@require_POST
def event_delete(request: WorkspaceRequest, code: str, event_code: str) -> HttpResponse:
    event = event_get(project=project_get(code), code=event_code)
    services.event_delete(event=event, actor=request.user)
    if request.htmx:
        return _row(request, event, "deleted")
    return redirect(f"{reverse('projects:timeline', args=[event.project.code])}?deleted={event.code}")


@workspace_view(Role.MEMBER)
@require_POST
def event_restore(request: WorkspaceRequest, code: str, event_code: str) -> HttpResponse:
    event = event_get_any(project=project_get(code), code=event_code)
    services.event_restore(event=event, actor=request.user)
    if request.htmx:
        return _row(request, event_get(project=event.project, code=event.code))
    messages.success(request, f"“{event.title}” restored.")
    return redirect(_timeline_url(event.project, event))


@workspace_view(Role.MEMBER)
@require_POST
def event_accept(request: WorkspaceRequest, code: str, event_code: str) -> HttpResponse:
    event = event_get(project=project_get(code), code=event_code)
    services.event_suggestion_accept(event=event, actor=request.user)
    if request.htmx:
        return _row(request, event_get(project=event.project, code=event.code))
    messages.success(request, f"“{event.title}” accepted.")
    return redirect(_timeline_url(event.project, event))


@workspace_view(Role.MEMBER)
@require_POST
def event_dismiss(request: WorkspaceRequest, code: str, event_code: str) -> HttpResponse:
    event = event_get(project=project_get(code), code=event_code)
    dismissed = services.event_suggestion_dismiss(event=event, actor=request.user).deleted_at is not None
    if not dismissed:  # no suggestion (accepted meanwhile): the row as it stands
        if request.htmx:
            return _row(request, event_get(project=event.project, code=event.code))
        messages.info(request, f"“{event.title}” is no longer a suggestion; delete it to remove it.")
        return redirect(_timeline_url(event.project, event))
    if request.htmx:
        return _row(request, event, "deleted")
    return redirect(f"{reverse('projects:timeline', args=[event.project.code])}?deleted={event.code}")


@workspace_view(Role.MEMBER)
@require_POST
def event_move(request: WorkspaceRequest, code: str, event_code: str) -> HttpResponse:
    project = project_get(code)
    event = event_get(project=project, code=event_code)
    form = EventMoveForm(request.POST, current=project)
    if not form.is_valid():
        messages.error(request, "Choose a project to move the event to.")
        return redirect(_timeline_url(project, event))
    target = form.cleaned_data["project"]
    services.event_move(event=event, actor=request.user, project=target)
    if request.htmx:
        return _row(request, event, "moved", target=target)
    messages.success(request, f"“{event.title}” moved to {target.name}.")
    return redirect(_timeline_url(project))


@workspace_view()
def project_export(request: WorkspaceRequest, code: str, fmt: str) -> HttpResponse:
    return _export(request, project_get(code), fmt)


@workspace_view()
def organization_export(request: WorkspaceRequest, fmt: str) -> HttpResponse:
    return _export(request, None, fmt)


def _export(request: WorkspaceRequest, project: Project | None, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("Unknown export format")
    organization = request_organization(request)
    name = organization.slug if project is None else f"{organization.slug}-{project.slug}"
    if fmt == "csv":
        response = HttpResponse(
            # Downloaded by a person: times in their zone, the one their pages use (docs/dashboard.md "Time").
            export_csv(organization=organization, project=project, reader=timezone.get_current_timezone()),
            content_type="text/csv; charset=utf-8",
        )
    else:
        data = export_data(organization_slug=organization.slug, project=project)
        response = HttpResponse(export_json(data), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}-timeline.{fmt}"'
    return response
