"""The end of an organization's life: export all of its data, and delete it.

Both work from Django's model registry instead of importing the other apps (organizations
imports none of them, docs/architecture.md): the tenant tables are every model of the tenant
apps, and the public rows are every row of a model with a foreign key to Organization.
A new app's tables are therefore exported and deleted without touching this module.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from organizations.models import Membership, Organization
from organizations.schemas import storage_schema
from organizations.storage import TenantS3Storage, file_open, file_response, organization_files_delete_all

logger = logging.getLogger(__name__)

# Stored exports, in the organization's storage.
EXPORTS_FOLDER = "exports"
# 2: with the organization's own row and the people its rows point to (import_organization
# reads only this format and later ones).
EXPORT_FORMAT = 2
ORGANIZATION_FILE = "public/organizations.Organization.json"
USERS_FILE = "public/users.json"
COPY_BLOCK = 1024 * 1024

Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]


def _no_progress(items: Iterable[Any], total: int, label: str) -> Iterable[Any]:
    return items


class LifecycleError(Exception):
    pass


def tenant_models() -> list[type[models.Model]]:
    """Every concrete model whose table lives in an organization's schema."""
    labels = {label.rsplit(".", 1)[-1] for label in settings.TENANT_APPS}
    return [m for m in apps.get_models() if m._meta.app_label in labels and not m._meta.proxy]


def public_links() -> list[tuple[type[models.Model], str]]:
    """(model, field name) for every public model that points at Organization."""
    labels = {label.rsplit(".", 1)[-1] for label in settings.TENANT_APPS}
    links: list[tuple[type[models.Model], str]] = []
    for model in apps.get_models():
        if model._meta.app_label in labels or model._meta.proxy or model is Organization:
            continue
        links.extend(
            (model, f.name)
            for f in model._meta.get_fields()
            if f.many_to_one and f.concrete and f.related_model is Organization
        )
    return links


def _file_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.get_fields() if isinstance(f, models.FileField)]


def _stored_files(organization: Organization) -> Iterator[str]:
    """Names (in the organization's storage) of every file its rows point to: its tenant rows,
    and its public rows (a kept refused message on its Delivery row)."""
    for model, link in public_links():
        names = _file_fields(model)
        if names:
            for values in model._base_manager.filter(**{link: organization}).values_list(*names):
                yield from (value for value in values if value)
    with schema_context(organization.schema_name):
        for model in tenant_models():
            names = _file_fields(model)
            if not names:
                continue
            for values in model._base_manager.values_list(*names):
                yield from (value for value in values if value)


def _check(organization: Organization) -> None:
    if organization.schema_name == get_public_schema_name() or organization.is_template:
        raise LifecycleError("The platform and the template schema are not organizations' data.")


@dataclass
class ExportResult:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing_files: list[str] = field(default_factory=list)


def organization_export(
    *, organization: Organization, destination: Path, progress: Progress = _no_progress
) -> ExportResult:
    """A zip of everything the organization owns: each tenant table and each public row that
    belongs to it as JSON (Django's serialization format, loadable with loaddata), the member
    list, and every stored file (raw mail, attachments) under files/."""
    _check(organization)
    result = ExportResult(path=destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    users: set[int] = set()
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        # Its own row: plan, billing state, sender policy, limits (import_organization restores them).
        _write_json(archive, ORGANIZATION_FILE, Organization.objects.filter(pk=organization.pk), users)
        links = public_links()
        for model, name in progress(links, len(links), "public rows"):
            rows = model._base_manager.filter(**{name: organization}).order_by("pk")
            result.rows[f"public/{model._meta.label}"] = _write_json(
                archive, f"public/{model._meta.label}.json", rows, users
            )
        members = Membership.objects.filter(organization=organization).select_related("user").order_by("pk")
        archive.writestr(
            "public/members.json",
            json.dumps([{"email": m.user.email, "role": m.role, "since": m.created_at.isoformat()} for m in members]),
        )
        with schema_context(organization.schema_name):
            tables = tenant_models()
            for model in progress(tables, len(tables), "tenant tables"):
                rows = model._base_manager.order_by("pk")
                result.rows[f"tenant/{model._meta.label}"] = _write_json(
                    archive, f"tenant/{model._meta.label}.json", rows, users
                )
            names = sorted(set(_stored_files(organization)))
            for name in progress(names, len(names), "files"):
                # Copied block by block (from the bucket too): a file is never read whole. A
                # storage that cannot be reached fails the export rather than leaving files out.
                try:
                    stored = default_storage.open(name, "rb")
                except FileNotFoundError:
                    result.missing_files.append(name)
                    continue
                with stored, archive.open(f"files/{name}", "w", force_zip64=True) as target:
                    shutil.copyfileobj(stored, target, COPY_BLOCK)
                result.files += 1
        archive.writestr(USERS_FILE, json.dumps(_users(users), indent=1))
        archive.writestr(
            "manifest.json",
            json.dumps(
                {
                    "format": EXPORT_FORMAT,
                    "organization": {"slug": organization.slug, "name": organization.name},
                    "schema": organization.schema_name,
                    "exported_at": timezone.now().isoformat(),
                    "rows": result.rows,
                    "files": result.files,
                    "missing_files": result.missing_files,
                },
                indent=2,
            ),
        )
    return result


def organization_export_store(*, organization: Organization, progress: Progress = _no_progress) -> StoredExport:
    """The export, kept in the organization's own storage (the bucket, under its prefix, or its
    media folder) as exports/<slug>-<time>.zip: a one-off container's disk does not outlive it.
    It is deleted with the organization, like everything else of it."""
    with tempfile.TemporaryDirectory() as folder:
        result = organization_export(
            organization=organization, destination=Path(folder) / "export.zip", progress=progress
        )
        name = f"{EXPORTS_FOLDER}/{organization.slug}-{timezone.now():%Y%m%d-%H%M%S}.zip"
        with storage_schema(organization.schema_name), result.path.open("rb") as handle:
            name = default_storage.save(name, File(handle))
    return StoredExport(name=name, result=result)


def _write_json(archive: zipfile.ZipFile, name: str, rows: models.QuerySet[Any], users: set[int]) -> int:
    """Write the rows; add to `users` the id of every user they point to."""
    objects = list(rows)
    archive.writestr(name, serializers.serialize("json", objects, indent=1, cls=ExactJSONEncoder))
    fields = user_fields(rows.model)
    users.update(value for obj in objects for f in fields if (value := getattr(obj, f.attname)) is not None)
    return len(objects)


class ExactJSONEncoder(DjangoJSONEncoder):
    """Times to the microsecond: Django's encoder cuts them to milliseconds (as JavaScript
    dates have them), so imported rows would no longer sort or compare as the originals did."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


def user_fields(model: type[models.Model]) -> list[models.ForeignKey[Any, Any]]:
    """The model's foreign keys to the user model (members, authors, actors)."""
    user_model = get_user_model()
    return [
        f
        for f in model._meta.get_fields()
        if isinstance(f, models.ForeignKey) and f.concrete and f.related_model is user_model
    ]


def _users(ids: set[int]) -> list[dict[str, Any]]:
    """The people the rows point to, by email, so another install can match or recreate them
    (user ids differ between databases); never a password or a two-factor secret."""
    verified = set(
        EmailAddress.objects.filter(user_id__in=ids, primary=True, verified=True).values_list("user_id", flat=True)
    )
    return [
        {
            "id": user.pk,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "time_zone": getattr(user, "time_zone", ""),
            "verified": user.pk in verified,
        }
        for user in get_user_model()._base_manager.filter(pk__in=ids).order_by("pk")
    ]


@dataclass
class StoredExport:
    name: str  # in the organization's storage
    result: ExportResult


@dataclass
class DeleteResult:
    schema_name: str
    public_rows: dict[str, int]
    files: int


def organization_delete(*, organization: Organization) -> DeleteResult:
    """Delete the organization: its stored files, every public row that belongs to it (rows
    whose key would only be set to NULL included: deliveries, Stripe customers), then the
    organization with its domains and its schema. Users stay: a person may belong to other
    organizations, and an account is theirs, not the organization's."""
    _check(organization)
    schema_name = organization.schema_name
    files = _files_delete(organization)
    counts: dict[str, int] = {}
    with transaction.atomic():
        # Rows written earlier in the same transaction (an admin session, tests) leave deferred
        # foreign-key checks pending, and PostgreSQL will not DROP a table that has them.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' backend
        for model, name in public_links():
            deleted, _ = model._base_manager.filter(**{name: organization}).delete()
            counts[model._meta.label] = deleted
        # force_drop: Organization.auto_drop_schema is off so that nothing else drops schemas.
        organization.delete(force_drop=True)
    logger.warning("Organization %s deleted with its schema and %s stored files", schema_name, files)
    return DeleteResult(schema_name=schema_name, public_rows=counts, files=files)


def _files_delete(organization: Organization) -> int:
    """Delete every file of the organization; the number its rows pointed to. In a bucket
    everything under its prefix goes, a thousand keys per request (exports and files no row
    points to any more included); on disk each file, then its schema's folder."""
    names = list(_stored_files(organization))
    if not isinstance(default_storage, TenantS3Storage):
        with schema_context(organization.schema_name):
            for name in names:
                default_storage.delete(name)
    organization_files_delete_all(organization.schema_name)
    return len(names)


# --- staff actions in the Django admin (registered by organizations.admin) ----------------------


def admin_export_action(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Organization]
) -> HttpResponseBase | None:
    """Download one organization's export zip."""
    if queryset.count() != 1:
        modeladmin.message_user(request, "Export one organization at a time.", messages.WARNING)
        return None
    organization = queryset.get()
    stored = organization_export_store(organization=organization)
    logger.warning(
        "Staff user %s exported organization %s (%s)", request.user.pk, organization.schema_name, stored.name
    )
    with storage_schema(organization.schema_name):
        handle = file_open(stored.name)
    return file_response(handle, filename=Path(stored.name).name, content_type="application/zip")


admin_export_action.short_description = "Export all data (zip)"  # type: ignore[attr-defined]


def admin_delete_action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Organization]) -> HttpResponse | None:
    """Delete one organization with everything it owns, after staff type its slug on a
    confirmation page that lists what goes."""
    if queryset.count() != 1:
        modeladmin.message_user(request, "Delete one organization at a time.", messages.WARNING)
        return None
    organization = queryset.get()
    typed = request.POST.get("confirm_slug", "")
    if request.POST.get("post") == "yes" and typed == organization.slug:
        result = organization_delete(organization=organization)
        modeladmin.message_user(
            request,
            f"Deleted {organization.name}: schema {result.schema_name}, "
            f"{sum(result.public_rows.values())} public rows, {result.files} files.",
        )
        return None
    counts = [
        (model._meta.verbose_name_plural, model._base_manager.filter(**{name: organization}).count())
        for model, name in public_links()
    ]
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Delete {organization.name} and all of its data?",
        "organization": organization,
        "counts": [(label, n) for label, n in counts if n],
        "files": sum(1 for _ in _stored_files(organization)),
        "wrong_slug": request.POST.get("post") == "yes",
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/organizations/organization/lifecycle_delete.html", context)


admin_delete_action.short_description = "Delete organization and all its data…"  # type: ignore[attr-defined]
