"""/api/v1/events: timeline events, through the same selectors and services as the dashboard,
so API edits are marked edited (with the key's creator as the person) exactly like edits there."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError

from api.auth import api_access
from api.errors import ApiFieldError
from api.pagination import bad_cursor, cursor_param, limit_param
from api.schemas import ERRORS, EventIn, EventKindName, EventOut, EventPage, EventPatch, WhenName
from events.models import Event
from events.selectors import TimelineFilter, cursor_decode, event_history, timeline_page
from events.services import event_create, event_delete, event_mark_done, event_update
from projects.models import Project

router = Router(tags=["events"])
# Nullable in the model; the other editable fields refuse an explicit null.
_NULLABLE = {"date", "time", "amount"}


def _event(code: UUID) -> Event:
    event = (
        Event.objects.filter(code=code, deleted_at__isnull=True)
        .select_related("project", "email")
        .prefetch_related(Prefetch("history", queryset=event_history()))
        .first()
    )
    if event is None:
        raise HttpError(404, "No event with this code.")
    return event


def _project(code: UUID | None, field: str = "project") -> Project | None:
    if code is None:
        return None
    project = Project.objects.filter(code=code, merged_into__isnull=True).first()
    if project is None:
        raise ApiFieldError(field, "no project with this code in this workspace.")
    return project


@router.get("/events", response={200: EventPage, **ERRORS}, summary="List events in timeline order")
def events_list(
    request: HttpRequest,
    project: UUID | None = None,
    kind: list[EventKindName] = Query([]),  # noqa: B008 — ninja's way to declare a repeated query parameter
    when: WhenName = "all",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    q: str = "",
    cursor: str = cursor_param(),
    limit: int = limit_param(),
) -> dict[str, object]:
    """Date, then time (untimed first on their day), then id; undated events last. Deleted events never appear.

    `kind` may repeat (`?kind=deadline&kind=payment`); `when=upcoming` means dated today or later.
    """
    api_access(request)
    if cursor and cursor_decode(cursor) is None:
        raise bad_cursor()
    filters = TimelineFilter(kinds=tuple(kind), when=when, date_from=date_from, date_to=date_to, q=q)
    page = timeline_page(project=_project(project), filters=filters, cursor=cursor, size=limit)
    return {"items": [event for group in page.groups for event in group.events], "next_cursor": page.next_cursor}


@router.get("/events/{code}", response={200: EventOut, **ERRORS}, summary="An event")
def event_detail(request: HttpRequest, code: UUID) -> Event:
    api_access(request)
    return _event(code)


@router.post("/events", response={201: EventOut, **ERRORS}, summary="Add an event by hand")
def event_add(request: HttpRequest, payload: EventIn) -> Status[Event]:
    """Like "Add event" on the timeline: provider `manual`, no source email, confidence 1."""
    api_key = api_access(request, write=True)
    project = _project(payload.project)
    fields = payload.dict(exclude={"project"})
    event = event_create(project=project, actor=api_key.created_by, **fields)  # type: ignore[arg-type]
    return Status(201, _event(event.code))


@router.patch("/events/{code}", response={200: EventOut, **ERRORS}, summary="Change an event")
def event_change(request: HttpRequest, code: UUID, payload: EventPatch) -> Event:
    """Only the fields sent change; `done` marks it done or open again."""
    api_key = api_access(request, write=True)
    event = _event(code)
    changes = payload.dict(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in _NULLABLE:
            raise ApiFieldError(name, "may not be null.")
    done = changes.pop("done", None)
    if changes:
        event_update(event=event, actor=api_key.created_by, **changes)
    if done is not None:
        event_mark_done(event=event, actor=api_key.created_by, done=done)
    return _event(code)


@router.delete("/events/{code}", response={204: None, **ERRORS}, summary="Delete an event")
def event_remove(request: HttpRequest, code: UUID) -> Status[None]:
    """Soft delete, as on the dashboard (undo stays possible there); re-processing its email never brings it back."""
    api_key = api_access(request, write=True)
    event_delete(event=_event(code), actor=api_key.created_by)
    return Status(204, None)
