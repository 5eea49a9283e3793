"""Project services: create, update, merge, taught signals, feed tokens. Each owns its transaction."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from billing.limits import project_creation_allowed
from organizations.models import Organization
from projects.models import OPEN_STATUSES, Project, ProjectAlias, ProjectSignal, ProjectStatus

if TYPE_CHECKING:
    from accounts.models import User


class ProjectError(Exception):
    """A project change that cannot be made; the message is meant for the user."""


class ProjectLimitError(ProjectError):
    """The plan allows no more open projects."""


def project_slug_unique(name: str) -> str:
    """A slug for `slug+hint@` addresses, unique in the workspace (name, name-2, name-3, …)."""
    base = (slugify(name) or "project")[:70].strip("-") or "project"
    taken = set(Project.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def _alias_add(project: Project, alias: str) -> None:
    """Remember another name of the project so later mail that uses it still matches."""
    alias = alias.strip()
    if not alias or alias.lower() == project.name.lower():
        return
    if ProjectAlias.objects.filter(alias__iexact=alias).exists():
        return
    ProjectAlias.objects.create(project=project, alias=alias)


@transaction.atomic
def project_create(
    *,
    organization: Organization,
    actor: User | None,
    name: str,
    client_name: str = "",
    client_email: str = "",
) -> Project:
    current_count = Project.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True).count()
    if not project_creation_allowed(organization, current_count=current_count):
        raise ProjectLimitError("Your plan allows no more open projects. Complete or archive one, or upgrade the plan.")
    name = name.strip()
    project = Project(
        name=name,
        slug=project_slug_unique(name),
        client_name=client_name.strip(),
        client_email=client_email.strip().lower(),
        last_activity_at=timezone.now(),
    )
    project.full_clean()
    project.save()
    return project


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
