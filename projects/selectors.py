"""Reads of projects that span relations. One query per list, whatever the number of projects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.shortcuts import get_object_or_404
from django.utils import timezone

from projects.models import (
    OPEN_STATUSES,
    Project,
    ProjectAlias,
    ProjectMerge,
    ProjectSignal,
    ProjectStatus,
    SignalKind,
)


def open_projects() -> QuerySet[Project]:
    """The open projects: active or on hold, not merged away. What mail is filed into and what the
    plan's project limit counts; every count of "open projects" starts here."""
    return Project.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True)


def open_project_count() -> int:
    """How many open projects the workspace has (what the plan's project limit counts)."""
    return open_projects().count()


def project_list(*, search: str = "", status: str = "", today: date | None = None) -> QuerySet[Project]:
    """Projects (not merged away) with their event count and next upcoming dated event, by last activity."""
    today = today or timezone.localdate()
    # Events are read through the reverse relation `events`, never imported: projects sits below
    # events. One join, filtered and ordered on the same event rows: the earliest upcoming one
    # that is not a suggestion nobody accepted yet (Event.suggested).
    upcoming = Project.objects.filter(
        pk=OuterRef("pk"),
        events__deleted_at__isnull=True,
        events__status="active",
        events__suggested=False,
        events__date__gte=today,
    ).order_by("events__date", "events__time", "events__id")
    projects = (
        Project.objects.filter(merged_into__isnull=True)
        .annotate(
            event_count=Count("events", filter=Q(events__deleted_at__isnull=True)),
            next_event_date=Subquery(upcoming.values("events__date")[:1]),
            next_event_title=Subquery(upcoming.values("events__title")[:1]),
            activity_at=Coalesce("last_activity_at", "created_at"),
        )
        .order_by(F("activity_at").desc(), "-pk")
    )
    if status in ProjectStatus.values:
        projects = projects.filter(status=status)
    search = search.strip()
    if search:
        projects = projects.filter(
            Q(name__icontains=search)
            | Q(client_name__icontains=search)
            | Q(client_email__icontains=search)
            | Q(pk__in=ProjectAlias.objects.filter(alias__icontains=search).values("project"))
        )
    return projects


def project_choices(*, exclude: Project | None = None) -> QuerySet[Project]:
    """Projects an event can move to, or a project can be merged into."""
    projects = Project.objects.filter(merged_into__isnull=True).only("pk", "code", "name").order_by("name")
    if exclude is not None:
        projects = projects.exclude(pk=exclude.pk)
    return projects


def project_filing_choices() -> QuerySet[Project]:
    """Open projects (not merged away) that mail can be filed into or moved to, by name."""
    return open_projects().only("pk", "code", "name", "client_name", "last_activity_at").order_by(Lower("name"), "pk")


def project_filing_menu(*, limit: int) -> tuple[list[Project], bool]:
    """The open projects a list page offers in each row's select: the `limit` most recently
    active, by name, and whether there are more (one query)."""
    recent = list(project_filing_choices().order_by(F("last_activity_at").desc(nulls_last=True), "-pk")[: limit + 1])
    return sorted(recent[:limit], key=lambda p: (p.name.lower(), p.pk)), len(recent) > limit


def project_signals(project: Project) -> list[ProjectSignal]:
    """What people taught about this project (senders, domains, subject words), with who taught
    each: one query."""
    signals = ProjectSignal.objects.filter(project=project).select_related("taught_by").order_by("value", "pk")
    order = [SignalKind.SENDER.value, SignalKind.DOMAIN.value, SignalKind.WORD.value]
    return sorted(signals, key=lambda s: order.index(s.kind) if s.kind in order else len(order))


def project_get(code: object) -> Project:
    """The project with this code, or 404. The tenant schema already limits it to this workspace."""
    return get_object_or_404(Project, code=code)


@dataclass(frozen=True)
class MergeSummary:
    """What a merge of `source` into `target` would move, for the page that asks to confirm it."""

    source: Project
    target: Project
    emails: int
    events: int
    aliases: int
    signals: int
    signals_kept: int  # taught signals the target has already: they stay with the source

    @property
    def moves_nothing(self) -> bool:
        return not (self.emails or self.events or self.aliases or self.signals)


def project_merge_summary(source: Project, target: Project) -> MergeSummary:
    """Counts of what `projects.services.project_merge` would move. Events deleted by a person move
    too but are not counted (they are on no timeline). Five small queries."""
    # Counted one relation at a time: one query joining all three would multiply their rows.
    counts = {
        "emails": source.emails.count(),
        "events": source.events.filter(deleted_at__isnull=True).count(),
        "aliases": source.aliases.count(),
    }
    known = set(ProjectSignal.objects.filter(project=target).values_list("kind", "value"))
    pairs = list(ProjectSignal.objects.filter(project=source).values_list("kind", "value"))
    kept = sum(pair in known for pair in pairs)
    return MergeSummary(
        source=source,
        target=target,
        emails=counts["emails"],
        events=counts["events"],
        aliases=counts["aliases"],
        signals=len(pairs) - kept,
        signals_kept=kept,
    )


def project_merges_undoable(target: Project, *, since: datetime) -> list[ProjectMerge]:
    """Merges into `target` made after `since` and not undone, newest first, with their sources. One query."""
    return list(
        ProjectMerge.objects.filter(target=target, undone_at__isnull=True, created_at__gt=since)
        .select_related("source", "merged_by")
        .order_by("-created_at")
    )


def project_merge_get(code: str) -> ProjectMerge:
    """One merge by its code, with both projects and who made and undid it; 404 otherwise."""
    return get_object_or_404(
        ProjectMerge.objects.select_related("source", "target", "merged_by", "undone_by"), code=code
    )
