"""Changes people make to timeline events. Each service owns its transaction and leaves a trace in EventHistory.

The dashboard and (later) the JSON API call these; extraction's own writes live in events.apply.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from events.models import Event, EventHistory
from projects.models import Project

if TYPE_CHECKING:
    from accounts.models import User

# The fields a person may change on an event; everything else is provenance.
EDITABLE_FIELDS = ("kind", "title", "description", "date", "time", "people", "amount", "currency")


class EventError(Exception):
    """A change that cannot be made; the message is meant for the user."""


def _snapshot(event: Event, fields: tuple[str, ...] = EDITABLE_FIELDS) -> dict[str, Any]:
    """JSON-safe values of `fields`, for EventHistory.before/after."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(event, name)
        if isinstance(value, date | time):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        values[name] = value
    return values


def _clean_people(people: list[str] | tuple[str, ...] | None) -> list[str]:
    return [p.strip() for p in people or [] if p and p.strip()]


def _touch_project(project: Project) -> None:
    Project.objects.filter(pk=project.pk).update(last_activity_at=timezone.now())


@transaction.atomic
def event_create(
    *,
    project: Project,
    actor: User | None,
    kind: str,
    title: str,
    date: date | None = None,
    time: time | None = None,
    description: str = "",
    people: list[str] | None = None,
    amount: Decimal | None = None,
    currency: str = "",
) -> Event:
    """An event added by hand. It has no source email, so re-processing never touches it."""
    event = Event(
        project=project,
        kind=kind,
        title=title.strip(),
        date=date,
        time=time,
        description=description,
        people=_clean_people(people),
        amount=amount,
        currency=currency.upper(),
        provider="manual",
        confidence=1.0,
        edited=True,
        edited_by=actor,
    )
    event.full_clean()
    event.save()
    EventHistory.objects.create(event=event, action="created", actor=actor, after=_snapshot(event))
    _touch_project(project)
    return event


@transaction.atomic
def event_update(*, event: Event, actor: User | None, **changes: Any) -> Event:
    """Change editable fields; the event is then marked edited so re-processing its email keeps it."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise EventError(f"These fields cannot be edited: {', '.join(sorted(unknown))}")
    event = Event.objects.select_for_update().get(pk=event.pk)
    if "people" in changes:
        changes["people"] = _clean_people(changes["people"])
    if "currency" in changes:
        changes["currency"] = (changes["currency"] or "").upper()
    if "title" in changes:
        changes["title"] = changes["title"].strip()
    changed = tuple(name for name, value in changes.items() if getattr(event, name) != value)
    if not changed:
        # Saved as it stands: the person checked it against its email, which settles the
        # extraction's doubt (Event.corroborated_confidence) without marking it edited.
        if not event.edited and not event.history.filter(action="checked").exists():
            EventHistory.objects.create(event=event, action="checked", actor=actor)
        return event
    before = _snapshot(event, changed)
    for name in changed:
        setattr(event, name, changes[name])
    event.edited = True
    event.edited_by = actor
    event.full_clean()
    event.save(update_fields=[*changed, "edited", "edited_by", "updated_at"])
    EventHistory.objects.create(
        event=event, action="edited", actor=actor, before=before, after=_snapshot(event, changed)
    )
    _touch_project(event.project)
    return event


@transaction.atomic
def event_mark_done(*, event: Event, actor: User | None, done: bool = True) -> Event:
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.done == done:
        return event
    event.done = done
    event.save(update_fields=["done", "updated_at"])
    EventHistory.objects.create(
        event=event, action="done" if done else "reopened", actor=actor, before={"done": not done}, after={"done": done}
    )
    return event


@transaction.atomic
def event_delete(*, event: Event, actor: User | None) -> Event:
    """Soft delete: the event disappears from the timeline and exports until `event_restore` (undo)."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.deleted_at is not None:
        return event
    before = _edited_state(event)
    event.deleted_at = timezone.now()
    # A deleted event must also stay deleted when its email is re-processed.
    event.edited = True
    event.edited_by = actor
    event.save(update_fields=["deleted_at", "edited", "edited_by", "updated_at"])
    EventHistory.objects.create(event=event, action="deleted", actor=actor, before=before)
    return event


def _edited_state(event: Event) -> dict[str, Any]:
    """What deleting (or dismissing) changes besides `deleted_at`, kept on its history row so
    that undo puts it back exactly: an event nobody had edited is not "Edited" after an undo."""
    return {"edited": event.edited, "edited_by": event.edited_by_id}


@transaction.atomic
def event_restore(*, event: Event, actor: User | None) -> Event:
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.deleted_at is None:
        return event
    event.deleted_at = None
    fields = ["deleted_at", "updated_at"]
    removal = event.history.filter(action__in=("deleted", "dismissed")).order_by("-at", "-id").first()
    # Rows written before the state was kept (no "edited" in `before`) leave it as it is.
    if removal is not None and "edited" in removal.before:
        event.edited = bool(removal.before["edited"])
        event.edited_by_id = removal.before.get("edited_by")
        fields += ["edited", "edited_by"]
    event.save(update_fields=fields)
    EventHistory.objects.create(event=event, action="restored", actor=actor)
    return event


@transaction.atomic
def event_suggestion_accept(*, event: Event, actor: User | None) -> Event:
    """A suggestion becomes an event like any other (feeds, digest, "Next", exports). Marked edited,
    so re-processing its email keeps it rather than suggesting it again. Accepting an event that
    is no suggestion (accepted meanwhile, or confirmed by a later email) changes nothing."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.suggested:
        return event
    event.suggested = False
    event.edited = True
    event.edited_by = actor
    event.save(update_fields=["suggested", "edited", "edited_by", "updated_at"])
    EventHistory.objects.create(event=event, action="accepted", actor=actor)
    return event


@transaction.atomic
def event_suggestion_dismiss(*, event: Event, actor: User | None) -> Event:
    """A suggestion a person does not want: soft-deleted like `event_delete` (so `event_restore`
    undoes it, as a suggestion again) with a "dismissed" row. An event that is no suggestion
    (accepted meanwhile) is not deleted: that is the Delete button's job."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.suggested or event.deleted_at is not None:
        return event
    before = _edited_state(event)
    event.deleted_at = timezone.now()
    # As a deleted event: re-processing the email must not suggest it again.
    event.edited = True
    event.edited_by = actor
    event.save(update_fields=["deleted_at", "edited", "edited_by", "updated_at"])
    EventHistory.objects.create(event=event, action="dismissed", actor=actor, before=before)
    return event


@transaction.atomic
def event_move(*, event: Event, actor: User | None, project: Project) -> Event:
    """Move an event to another project of the same workspace."""
    if project.merged_into_id is not None:
        raise EventError("That project was merged into another one.")
    event = Event.objects.select_for_update().select_related("project").get(pk=event.pk)
    if event.project_id == project.pk:
        return event
    before = {"project": event.project.name, "project_code": str(event.project.code)}
    event.project = project
    event.edited = True
    event.edited_by = actor
    event.save(update_fields=["project", "edited", "edited_by", "updated_at"])
    EventHistory.objects.create(
        event=event,
        action="moved",
        actor=actor,
        before=before,
        after={"project": project.name, "project_code": str(project.code)},
    )
    _touch_project(project)
    return event
