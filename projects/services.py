"""Project services: create (the one place projects are made), update, merge and its undo, taught
signals, feed tokens. Each owns its transaction."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import slugify
from django_tenants.utils import schema_context

from billing.limits import project_creation_allowed
from billing.selectors import limits_for
from organizations.models import Organization
from projects.models import OPEN_STATUSES, Project, ProjectAlias, ProjectMerge, ProjectSignal, ProjectStatus
from projects.selectors import open_project_count, open_projects

if TYPE_CHECKING:
    from accounts.models import User


class ProjectError(Exception):
    """A project change that cannot be made; the message is meant for the user."""


class ProjectLimitError(ProjectError):
    """The plan allows no more open projects. The pipeline turns it into a hold of the email
    (events.apply.ProjectLimitReached); the dashboard shows it, the API answers 409."""

    def __init__(self, *, limit: int | None, open_count: int) -> None:
        super().__init__("Your plan allows no more open projects. Complete or archive one, or upgrade the plan.")
        self.limit = limit
        self.open_count = open_count


# pg_advisory_xact_lock(PROJECT_CREATION_LOCK, organization id): one project creation at a time
# per organization, until the creating transaction ends.
PROJECT_CREATION_LOCK = 0x50524A43  # "PRJC"
NAME_MAX = Project._meta.get_field("name").max_length or 200
CLIENT_NAME_MAX = Project._meta.get_field("client_name").max_length or 200
UNTITLED = "Untitled project"


def project_name_normalise(name: str) -> str:
    """A project name as it is stored: one space between words, at most 200 characters, never blank."""
    return " ".join(name.split())[:NAME_MAX].strip() or UNTITLED


def project_slug_unique(name: str) -> str:
    """A slug for `slug+hint@` addresses, unique in the workspace (name, name-2, name-3, …)."""
    base = (slugify(name) or "project")[:70].strip("-") or "project"
    taken = set(Project.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def project_twin(name: str) -> Project | None:
    """The open project named or aliased `name` (any case), which a new project of that name would
    duplicate: the most recently active, as the pipeline's name match picks it."""
    return open_projects().filter(Q(name__iexact=name) | Q(aliases__alias__iexact=name)).first()


def _alias_add(project: Project, alias: str) -> bool:
    """Remember another name of the project so later mail that uses it still matches. False when
    nothing was added (blank, the project's own name, or an alias already)."""
    alias = alias.strip()
    if not alias or alias.lower() == project.name.lower():
        return False
    if ProjectAlias.objects.filter(alias__iexact=alias).exists():
        return False
    ProjectAlias.objects.create(project=project, alias=alias)
    return True


def project_create(
    *,
    organization: Organization,
    actor: User | None,
    name: str,
    client_name: str = "",
    client_email: str = "",
    active_at: datetime | None = None,
) -> Project:
    """A new open project, or its twin: see `project_get_or_create`, whose project this returns."""
    return project_get_or_create(
        organization=organization,
        actor=actor,
        name=name,
        client_name=client_name,
        client_email=client_email,
        active_at=active_at,
    )[0]


@transaction.atomic
def project_get_or_create(
    *,
    organization: Organization,
    actor: User | None,
    name: str,
    client_name: str = "",
    client_email: str = "",
    active_at: datetime | None = None,
) -> tuple[Project, bool]:
    """(project, created): the one place projects are created, for the dashboard, the API, filing
    by hand and the pipeline (`actor` None) alike.

    - The name is normalised (`project_name_normalise`), the client's name trimmed, the client's
      address lowered and validated (ValidationError, as `full_clean` words it).
    - **The twin**: when an open project is already named or aliased `name` (any case), that
      project is returned with `created` False, whatever the plan allows. It is how two workers
      creating the same new project at once (two emails of one new thread) end in one project,
      and how a form sent twice or an API call retried does not make a duplicate. A completed,
      archived or merged project of that name is no twin: a new one is made beside it.
    - **The plan's limit**: `billing.limits.project_creation_allowed` with the open projects
      counted by `projects.selectors.open_project_count`; over it, ProjectLimitError (the
      pipeline holds the email, the dashboard says so, the API answers 409).
    - **The slug** is unique (`project_slug_unique`). Creations of one organization take turns
      (a transaction-level advisory lock), so the twin check, the count and the slug see every
      project committed before; should the slug still be taken when the row is inserted, the
      project holding it is returned when it has this name, and another slug is tried otherwise.

    `active_at` is the project's first activity (the email's date for the pipeline), else now.
    """
    name = project_name_normalise(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PROJECT_CREATION_LOCK, organization.pk])
    twin = project_twin(name)
    if twin is not None:
        return twin, False
    open_count = open_project_count()
    if not project_creation_allowed(organization, current_count=open_count):
        raise ProjectLimitError(limit=limits_for(organization).projects, open_count=open_count)
    project = Project(
        name=name,
        client_name=" ".join(client_name.split())[:CLIENT_NAME_MAX],
        client_email=client_email.strip().lower(),
        last_activity_at=active_at or timezone.now(),
    )
    attempts = 0
    while True:
        attempts += 1
        project.slug = project_slug_unique(name)
        project.full_clean(validate_unique=False)  # the slug's uniqueness is the index's to enforce
        try:
            with transaction.atomic():  # a savepoint: the insert may meet a slug taken meanwhile
                project.save(force_insert=True)
        except IntegrityError:
            # Taken by a project committed since the slug was chosen (its insert waited for that
            # commit, so the row is visible now): the twin when it has this name.
            holder = Project.objects.filter(slug=project.slug, name__iexact=name).first()
            if holder is not None:
                return holder, False
            if attempts >= 3:
                raise
        else:
            return project, True


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor: User | None,
    name: str | None = None,
    client_name: str | None = None,
    client_email: str | None = None,
    status: str | None = None,
) -> Project:
    """Rename, change client or status. A renamed project keeps its old name as an alias."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    changed: list[str] = []
    if name is not None and name.strip() and name.strip() != project.name:
        old_name = project.name
        project.name = name.strip()
        ProjectAlias.objects.filter(project=project, alias__iexact=project.name).delete()
        _alias_add(project, old_name)
        changed.append("name")
    if client_name is not None and client_name.strip() != project.client_name:
        project.client_name = client_name.strip()
        changed.append("client_name")
    if client_email is not None and client_email.strip().lower() != project.client_email:
        project.client_email = client_email.strip().lower()
        changed.append("client_email")
    if status is not None and status != project.status:
        if status not in ProjectStatus.values:
            raise ProjectError(f"Unknown status: {status}")
        project.status = status
        changed.append("status")
    if changed:
        project.full_clean(exclude=["slug"])
        project.save(update_fields=[*changed, "updated_at"])
    return project


# How long a merge can be undone: long enough to notice the wrong project was
# chosen, short enough that little mail has been filed on top of it.
MERGE_UNDO_WINDOW = timedelta(days=1)


def _lock_pair(first: Project, second: Project) -> tuple[Project, Project]:
    # Both rows in a fixed order, so two opposite merges (or a merge and an undo) cannot deadlock.
    locked = {p.pk: p for p in Project.objects.select_for_update().filter(pk__in=[first.pk, second.pk]).order_by("pk")}
    return locked[first.pk], locked[second.pk]


@transaction.atomic
def project_merge(*, source: Project, target: Project, actor: User | None) -> ProjectMerge:
    """Fold `source` into `target`: its events, emails, aliases and taught signals move, its name
    becomes an alias. Returns the ProjectMerge that records what moved, for `project_merge_undo`.

    The source row stays (archived, `merged_into` set) so old links can redirect to the target.
    A signal the target was already taught stays with the source (one per project, kind and value).
    """
    if source.pk == target.pk:
        raise ProjectError("A project cannot be merged into itself.")
    source, target = _lock_pair(source, target)
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise ProjectError("One of these projects was already merged.")
    known = set(ProjectSignal.objects.filter(project=target).values_list("kind", "value"))
    signals = [
        pk for pk, kind, value in source.signals.values_list("pk", "kind", "value") if (kind, value) not in known
    ]
    moved = {
        "events": list(source.events.values_list("pk", flat=True)),
        "emails": list(source.emails.values_list("pk", flat=True)),
        "aliases": list(source.aliases.values_list("pk", flat=True)),
        "signals": signals,
    }
    source.events.update(project=target)
    source.emails.update(project=target)
    source.aliases.update(project=target)
    ProjectSignal.objects.filter(pk__in=signals).update(project=target)
    record = ProjectMerge(
        source=source,
        target=target,
        merged_by=actor,
        moved=moved,
        source_status=source.status,
        source_feed_token=source.feed_token,
    )
    source.merged_into = target
    source.status = ProjectStatus.ARCHIVED
    source.feed_token = ""
    source.save(update_fields=["merged_into", "status", "feed_token", "updated_at"])
    if _alias_add(target, source.name):
        record.alias_added = source.name
    record.full_clean()
    record.save()
    latest = Project.objects.filter(pk__in=[source.pk, target.pk]).aggregate(latest=Max("last_activity_at"))["latest"]
    target.last_activity_at = latest or timezone.now()
    target.save(update_fields=["last_activity_at", "updated_at"])
    return record


def project_merge_undoable(merge: ProjectMerge, *, now: datetime | None = None) -> bool:
    """Whether the merge can still be undone: not undone yet, within MERGE_UNDO_WINDOW."""
    now = now or timezone.now()
    return merge.undone_at is None and now - merge.created_at < MERGE_UNDO_WINDOW


@transaction.atomic
def project_merge_undo(
    *, organization: Organization, merge: ProjectMerge, actor: User | None, now: datetime | None = None
) -> Project:
    """Put a merge back, within a day: the source is open again as it was (status, calendar feed),
    and every row the merge moved that is still on the target goes back to it; the alias the merge
    added goes. What happened since stays where it is: mail filed into the target after the merge
    (even through the source's name), and a moved event or email a person has moved on since.
    An open source counts against the plan's project limit again (ProjectLimitError when full).
    Returns the source project."""
    now = now or timezone.now()
    merge = ProjectMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ProjectError("This merge was already undone.")
    if not project_merge_undoable(merge, now=now):
        raise ProjectError("A merge can only be undone for a day after it was made.")
    source, target = _lock_pair(merge.source, merge.target)
    if source.merged_into_id != target.pk or target.merged_into_id is not None:
        raise ProjectError(f"“{target.name}” was merged again since; undo that merge first.")
    if merge.source_status in OPEN_STATUSES:
        open_count = open_project_count()
        if not project_creation_allowed(organization, current_count=open_count):
            raise ProjectLimitError(limit=limits_for(organization).projects, open_count=open_count)
    moved = merge.moved or {}
    target.events.filter(pk__in=moved.get("events", [])).update(project=source)
    target.emails.filter(pk__in=moved.get("emails", [])).update(project=source)
    target.aliases.filter(pk__in=moved.get("aliases", [])).update(project=source)
    target.signals.filter(pk__in=moved.get("signals", [])).update(project=source)
    if merge.alias_added:
        target.aliases.filter(alias__iexact=merge.alias_added).delete()
    source.merged_into = None
    source.status = merge.source_status
    source.feed_token = merge.source_feed_token
    source.save(update_fields=["merged_into", "status", "feed_token", "updated_at"])
    merge.undone_at = now
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by"])
    return source


@transaction.atomic
def project_signal_remove(*, signal: ProjectSignal, actor: User | None) -> None:
    """Forget one thing people taught about a project: later mail is no longer decided by it
    (the filing that taught it can still be undone; there is nothing left to forget then)."""
    ProjectSignal.objects.filter(pk=signal.pk).delete()


def feed_token_new() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def project_feed_rotate(*, project: Project, actor: User | None, revoke: bool = False) -> Project:
    """Create or regenerate the project's calendar feed secret; the old URL stops working at once."""
    project.feed_token = "" if revoke else feed_token_new()
    project.save(update_fields=["feed_token", "updated_at"])
    return project


@transaction.atomic
def project_feeds_rotate(*, organization: Organization) -> int:
    """Give every project feed of the organization a new address (a member left who may have
    copied one); revoked feeds stay revoked, and `updated_at` stays: nothing in the project
    changed. Returns how many feeds changed."""
    with schema_context(organization.schema_name):
        projects = list(Project.objects.exclude(feed_token="").only("pk", "feed_token"))
        for project in projects:
            project.feed_token = feed_token_new()
        Project.objects.bulk_update(projects, ["feed_token"])
    return len(projects)


@transaction.atomic
def organization_feed_rotate(*, organization: Organization, actor: User | None, revoke: bool = False) -> Organization:
    """The same for the organization-wide feed (every project's events)."""
    organization.feed_token = "" if revoke else feed_token_new()
    Organization.objects.filter(pk=organization.pk).update(feed_token=organization.feed_token)
    return organization
