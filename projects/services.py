"""Project services: create (the one place projects are made), update, merge, taught signals, feed
tokens. Each owns its transaction."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import slugify

from billing.limits import project_creation_allowed
from billing.selectors import limits_for
from organizations.models import Organization
from projects.models import Project, ProjectAlias, ProjectSignal, ProjectStatus
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


def _alias_add(project: Project, alias: str) -> None:
    """Remember another name of the project so later mail that uses it still matches."""
    alias = alias.strip()
    if not alias or alias.lower() == project.name.lower():
        return
    if ProjectAlias.objects.filter(alias__iexact=alias).exists():
        return
    ProjectAlias.objects.create(project=project, alias=alias)


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


@transaction.atomic
def project_merge(*, source: Project, target: Project, actor: User | None) -> Project:
    """Fold `source` into `target`: its events, emails and aliases move, its name becomes an alias.

    The source row stays (archived, `merged_into` set) so old links can redirect to the target.
    """
    if source.pk == target.pk:
        raise ProjectError("A project cannot be merged into itself.")
    # Lock both rows in a fixed order so two opposite merges cannot deadlock.
    locked = {p.pk: p for p in Project.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")}
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise ProjectError("One of these projects was already merged.")
    source.events.update(project=target)
    source.emails.update(project=target)
    source.aliases.update(project=target)
    source_name = source.name
    source.merged_into = target
    source.status = ProjectStatus.ARCHIVED
    source.feed_token = ""
    source.save(update_fields=["merged_into", "status", "feed_token", "updated_at"])
    _alias_add(target, source_name)
    latest = Project.objects.filter(pk__in=[source.pk, target.pk]).aggregate(latest=Max("last_activity_at"))["latest"]
    target.last_activity_at = latest or timezone.now()
    target.save(update_fields=["last_activity_at", "updated_at"])
    return target


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
def organization_feed_rotate(*, organization: Organization, actor: User | None, revoke: bool = False) -> Organization:
    """The same for the organization-wide feed (every project's events)."""
    organization.feed_token = "" if revoke else feed_token_new()
    Organization.objects.filter(pk=organization.pk).update(feed_token=organization.feed_token)
    return organization
