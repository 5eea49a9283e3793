"""Project pages: the list (search + status filter, htmx in place), create, settings (rename,
status, merge (confirmed, undoable for a day), what Projectr learned), calendar feed secrets. The timeline itself lives in
events.views_timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from config.htmx import render_page
from organizations.access import WorkspaceRequest, request_organization, workspace_view
from organizations.models import Role
from projects import services
from projects.forms import FeedForm, ProjectEditForm, ProjectFilterForm, ProjectForm, ProjectMergeForm, SignalForm
from projects.models import Project, ProjectSignal
from projects.selectors import (
    project_get,
    project_list,
    project_merge_get,
    project_merge_summary,
    project_merges_undoable,
    project_signals,
)

if TYPE_CHECKING:
    pass

PAGE_SIZE = 50


def feed_url(request: HttpRequest, path: str) -> str:
    """An absolute https (or dev http) URL on the workspace host for calendar apps."""
    return request_organization(request).absolute_url(path)


@workspace_view()
def project_index(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    filters = ProjectFilterForm(request.GET)
    search, status = filters.values()
    page = Paginator(project_list(search=search, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    membership = request.membership
    is_admin = membership.has_role(Role.ADMIN)
    # The shared address is for admins to hand out (a meeting room's calendar); everyone else
    # subscribes with their own, which leaves with them (docs/security.md "Limits and tokens").
    org_feed = (
        feed_url(request, reverse("feeds:organization", args=[organization.feed_token]))
        if organization.feed_token and is_admin
        else ""
    )
    my_feed = (
        feed_url(request, reverse("feeds:organization", args=[membership.feed_token])) if membership.feed_token else ""
    )
    context = {
        "filters": filters,
        "filtered": bool(search or status),
        "page": page,
        "projects": page.object_list,
        "query": request.GET.urlencode(),
        "org_feed_url": org_feed,
        "my_feed_url": my_feed,
        "can_edit": membership.has_role(Role.MEMBER),
        "is_admin": is_admin,
    }
    return render_page(request, "projects/list.html", context, partial="results")


@workspace_view(Role.MEMBER)
def project_create(request: WorkspaceRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project, created = services.project_get_or_create(
                organization=request_organization(request), actor=request.user, **form.cleaned_data
            )
        except services.ProjectLimitError as error:
            form.add_error(None, str(error))
        else:
            if created:
                messages.success(request, f"Project “{project.name}” created.")
            else:  # the open project of that name (or alias): never a second one beside it
                messages.info(request, f"“{project.name}” is already an open project of that name; here it is.")
            return redirect("projects:timeline", code=project.code)
    return render(request, "projects/create.html", {"form": form})


@workspace_view(Role.MEMBER)
def project_settings(request: WorkspaceRequest, code: str) -> HttpResponse:
    project = project_get(code)
    if project.merged_into_id:
        return redirect("projects:timeline", code=project.code)
    initial = {
        "name": project.name,
        "client_name": project.client_name,
        "client_email": project.client_email,
        "status": project.status,
    }
    form = ProjectEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.project_update(project=project, actor=request.user, **form.cleaned_data)
        messages.success(request, "Project saved.")
        return redirect("projects:edit", code=project.code)
    return render(request, "projects/settings.html", _settings_context(request, project, form=form))


def _settings_context(request: HttpRequest, project: Project, **extra: object) -> dict[str, object]:
    feed = (
        feed_url(request, reverse("feeds:project", args=[project.code, project.feed_token]))
        if project.feed_token
        else ""
    )
    return {
        "project": project,
        "merge_form": ProjectMergeForm(source=project),
        "merges_in": project_merges_undoable(project, since=timezone.now() - services.MERGE_UNDO_WINDOW),
        "aliases": list(project.aliases.order_by("alias").values_list("alias", flat=True)),
        "signals": project_signals(project),
        "feed_url": feed,
        "webcal_url": feed.replace("https://", "webcal://").replace("http://", "webcal://"),
        **extra,
    }


@workspace_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def project_merge(request: WorkspaceRequest, code: str) -> HttpResponse:
    """GET (from the settings' "Review merge…"): what would move, and a button to confirm. A POST
    merges only with the confirmation that page sends; without it, the page is shown again."""
    project = project_get(code)
    if project.merged_into_id:
        return redirect("projects:timeline", code=project.code)
    form = ProjectMergeForm(request.POST if request.method == "POST" else request.GET, source=project)
    if not form.is_valid():
        messages.error(request, "Choose the project to merge into.")
        return redirect(reverse("projects:edit", args=[project.code]) + "#merge")
    target = form.cleaned_data["target"]
    if request.method == "GET" or not form.cleaned_data["confirm"]:
        context = {"project": project, "summary": project_merge_summary(project, target)}
        return render(request, "projects/merge_confirm.html", context)
    try:
        merge = services.project_merge(source=project, target=target, actor=request.user)
    except services.ProjectError as error:
        messages.error(request, str(error))
        return redirect("projects:edit", code=project.code)
    return redirect("projects:merge_detail", code=merge.code)


@workspace_view(Role.MEMBER)
def project_merge_detail(request: WorkspaceRequest, code: str) -> HttpResponse:
    """A merge that was made: what moved, and its Undo while that is possible."""
    merge = project_merge_get(code)
    context = {
        "merge": merge,
        "moved": {kind: len(ids) for kind, ids in (merge.moved or {}).items()},
        "undoable": services.project_merge_undoable(merge),
        "undo_until": merge.created_at + services.MERGE_UNDO_WINDOW,
    }
    return render(request, "projects/merge_done.html", context)


@workspace_view(Role.MEMBER)
@require_POST
def project_merge_undo(request: WorkspaceRequest, code: str) -> HttpResponse:
    merge = project_merge_get(code)
    try:
        source = services.project_merge_undo(
            organization=request_organization(request), merge=merge, actor=request.user
        )
    except services.ProjectError as error:
        messages.error(request, str(error))
        return redirect("projects:merge_detail", code=merge.code)
    messages.success(request, f"The merge was undone: “{source.name}” is back with what it had.")
    return redirect("projects:timeline", code=source.code)


@workspace_view(Role.MEMBER)
@require_POST
def project_signal_remove(request: WorkspaceRequest, code: str) -> HttpResponse:
    project = project_get(code)
    form = SignalForm(request.POST)
    if not form.is_valid():
        raise Http404("No such signal")
    signal = get_object_or_404(ProjectSignal, pk=form.cleaned_data["signal"], project=project)
    services.project_signal_remove(signal=signal, actor=request.user)
    forgot = f"Forgot the {signal.get_kind_display().lower()} “{signal.value}”."
    if request.htmx:
        context = {"project": project, "signals": project_signals(project), "forgot": forgot}
        return render_page(request, "projects/settings.html", context, partial="learned")
    messages.success(request, forgot)
    return redirect(reverse("projects:edit", args=[project.code]) + "#learned")


@workspace_view(Role.MEMBER)
@require_POST
def project_feed_rotate(request: WorkspaceRequest, code: str) -> HttpResponse:
    """A new address for the project's calendar feed, or none (revoke); the feed itself is
    events' (events.views_feeds.project_feed)."""
    project = project_get(code)
    form = FeedForm(request.POST)
    if form.is_valid():
        revoke = form.cleaned_data["action"] == "revoke"
        services.project_feed_rotate(project=project, actor=request.user, revoke=revoke)
        messages.success(request, "Calendar feed revoked." if revoke else "New calendar feed address created.")
    return redirect(reverse("projects:edit", args=[project.code]) + "#feed")


@workspace_view(Role.ADMIN, write_role=Role.ADMIN)
@require_POST
def organization_feed_rotate(request: WorkspaceRequest) -> HttpResponse:
    """A new shared address for every project's events, or none (revoke); the feed itself is
    events.views_feeds.organization_feed."""
    form = FeedForm(request.POST)
    if form.is_valid():
        revoke = form.cleaned_data["action"] == "revoke"
        services.organization_feed_rotate(
            organization=request_organization(request),
            actor=request.user,
            revoke=revoke,
        )
        messages.success(request, "Calendar feed revoked." if revoke else "New calendar feed address created.")
    return redirect(reverse("projects:list") + "#calendar")
