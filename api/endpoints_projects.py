"""/api/v1/projects: the workspace's projects (the tenant schema limits every query to it)."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from api.auth import api_access
from api.pagination import cursor_param, limit_param, pk_cursor_decode, pk_page
from api.schemas import ERRORS, Error, ProjectIn, ProjectOut, ProjectPage, ProjectPatch, ProjectStatusName
from projects.models import Project
from projects.selectors import project_list
from projects.services import ProjectLimitError, project_get_or_create, project_update

router = Router(tags=["projects"])


def _project(code: UUID) -> Project:
    """With the list's annotations (event count, next event); 404 for unknown or merged-away codes."""
    project = project_list().filter(code=code).first()
    if project is None:
        raise HttpError(404, "No project with this code.")
    return project


@router.get("/projects", response={200: ProjectPage, **ERRORS}, summary="List projects")
def projects_list(
    request: HttpRequest,
    status: ProjectStatusName | None = None,
    q: str = "",
    cursor: str = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, object]:
    """Projects not merged away, oldest first (by id, so pages stay put while projects are added).

    `q` searches name, client, client email and aliases, like the dashboard's search box.
    """
    api_access(request)
    after = pk_cursor_decode("project", cursor)
    projects = project_list(search=q, status=status or "").order_by("pk")
    if after is not None:
        projects = projects.filter(pk__gt=after)
    return pk_page(projects, kind="project", limit=limit)


@router.get("/projects/{code}", response={200: ProjectOut, **ERRORS}, summary="A project")
def project_detail(request: HttpRequest, code: UUID) -> Project:
    api_access(request)
    return _project(code)


@router.post("/projects", response={200: ProjectOut, 201: ProjectOut, 409: Error, **ERRORS}, summary="Create a project")
def project_add(request: HttpRequest, payload: ProjectIn) -> Status[Project]:
    """201 with the new project; 200 with the open project already named (or aliased) so, which
    is returned instead of a duplicate (a retried call creates nothing twice); 409 when the plan
    allows no more open projects."""
    api_key = api_access(request, write=True)
    try:
        project, created = project_get_or_create(
            organization=api_key.organization,
            actor=api_key.created_by,
            name=payload.name,
            client_name=payload.client_name,
            client_email=payload.client_email,
        )
    except ProjectLimitError as exc:
        raise HttpError(409, str(exc)) from exc
    return Status(201 if created else 200, _project(project.code))


@router.patch("/projects/{code}", response={200: ProjectOut, **ERRORS}, summary="Rename, change client or status")
def project_change(request: HttpRequest, code: UUID, payload: ProjectPatch) -> Project:
    """Only the fields sent change. A renamed project keeps its old name as an alias, as on the dashboard."""
    api_key = api_access(request, write=True)
    project = _project(code)
    project_update(project=project, actor=api_key.created_by, **payload.dict(exclude_unset=True, exclude_none=True))
    return _project(code)
