"""Bring an organization's export (organizations.lifecycle.organization_export) into this
install: a restore after a disaster, or a move to another database (docs/deploy.md, "Moving or
restoring one organization").

Like the export it works from the model registry, not from the other apps: the tenant tables
are restored with their ids (the schema is new, so nothing can collide, and ids stored as plain
values — an AI batch's email ids, a usage record's email — keep pointing at the right rows);
public rows get new ids in this database, pointed at the new organization. People are matched
by email, because user ids differ between databases: someone who has no account here gets one
without a password (they set it with "Forgot password"), and their memberships follow.
"""

from __future__ import annotations

import json
import secrets
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django_tenants.utils import schema_context, schema_exists

from organizations.lifecycle import (
    EXPORT_FORMAT,
    ORGANIZATION_FILE,
    USERS_FILE,
    LifecycleError,
    Progress,
    _no_progress,
    public_links,
    tenant_models,
    user_fields,
)
from organizations.models import Domain, InboundAlias, Organization
from organizations.schemas import storage_schema, use_public_schema
from organizations.services import OnboardingError, feed_token_new, schema_name_for, slug_validate
from organizations.storage import storage_errors

FILES_PREFIX = "files/"
# Never taken from the archive: who the organization is in this database.
OWN_FIELDS = {"id", "schema_name", "slug", "is_template", "created_at"}


class ImportRefused(LifecycleError):
    """The archive cannot become an organization here; nothing was written."""


@dataclass
class ImportResult:
    organization: Organization
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    users_created: list[str] = field(default_factory=list)
    # Secrets and codes that this install already holds (the original organization is here
    # too): the copy got new ones, so the original's links and keys never open the copy.
    renewed: dict[str, int] = field(default_factory=dict)
    # Rows not imported, and why (label → count).
    skipped: dict[str, int] = field(default_factory=dict)


def organization_import(
    *, archive_path: Path, slug: str | None = None, progress: Progress = _no_progress
) -> ImportResult:
    """Create the organization of the archive, under its own slug or `slug`, with everything
    it owned. Refused, with nothing written, when the slug, its schema, its host or one of its
    inbound addresses exists here already. One transaction: a failure (a file that cannot be
    stored included) leaves no organization behind."""
    use_public_schema()
    with zipfile.ZipFile(archive_path) as archive:
        manifest = _manifest(archive)
        slug = _slug(slug or manifest["organization"]["slug"])
        schema_name = schema_name_for(slug)
        (exported_org,) = _objects(archive, ORGANIZATION_FILE)
        _refuse_taken(archive, slug=slug, schema_name=schema_name)

        with transaction.atomic():
            result = ImportResult(organization=_organization_create(exported_org.object, slug, schema_name))
            organization = result.organization
            users = _users_match(json.loads(archive.read(USERS_FILE)), result)
            with schema_context(schema_name):
                restored = []
                tables = tenant_models()
                for model in progress(tables, len(tables), "tenant tables"):
                    count = _tenant_rows_load(archive, model, users)
                    if count is not None:
                        result.rows[f"tenant/{model._meta.label}"] = count
                        restored.append(model)
                # The rows came with their ids: the next new row must not take one of them.
                with connection.cursor() as cursor:
                    for statement in connection.ops.sequence_reset_sql(no_style(), restored):
                        cursor.execute(statement)
            Domain.objects.create(domain=organization.host, tenant=organization, is_primary=True)
            links = public_links()
            for model, link in progress(links, len(links), "public rows"):
                _public_rows_load(archive, model, link, organization, users, result)
            names = [n for n in archive.namelist() if n.startswith(FILES_PREFIX) and not n.endswith("/")]
            for name in progress(names, len(names), "files"):
                _file_restore(archive, name, schema_name)
                result.files += 1
    use_public_schema()
    return result


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    except KeyError as error:
        raise ImportRefused("Not an organization export: it has no manifest.json.") from error
    if manifest.get("format", 1) < EXPORT_FORMAT:
        raise ImportRefused(
            "This export was written before exports could be imported (it lacks the organization's "
            "own row and its people): export the organization again with this version."
        )
    if manifest["format"] > EXPORT_FORMAT:
        raise ImportRefused(f"This export is format {manifest['format']}; this version reads up to {EXPORT_FORMAT}.")
    return manifest


def _slug(slug: str) -> str:
    try:
        return slug_validate(slug)
    except OnboardingError as error:
        raise ImportRefused(str(error)) from error


def _objects(archive: zipfile.ZipFile, name: str) -> list[Any]:
    """The archive's rows of one table (DeserializedObject), fields this version no longer has
    left out (new fields take their defaults)."""
    return list(serializers.deserialize("json", archive.read(name), ignorenonexistent=True))


def _refuse_taken(archive: zipfile.ZipFile, *, slug: str, schema_name: str) -> None:
    """Everything that would make two organizations answer to one name (its inbound address
    is slug@INBOUND_DOMAIN, so the slug covers it), checked before anything is written."""
    existing = Organization.objects.filter(slug=slug).first()
    if existing is not None:
        raise ImportRefused(
            f"An organization with the slug '{slug}' exists here already ({existing.name}): import with "
            "--slug <another>, or delete it first (delete_organization)."
        )
    if schema_exists(schema_name):
        raise ImportRefused(f"The schema {schema_name} exists here already; nothing was imported.")
    host = f"{slug}.{settings.BASE_DOMAIN}"
    if Domain.objects.filter(domain=host).exists():
        raise ImportRefused(f"The host {host} belongs to another organization here; nothing was imported.")
    aliases = [obj.object.address for obj in _objects_if_any(archive, InboundAlias)]
    taken = sorted(InboundAlias.objects.filter(address__in=aliases).values_list("address", flat=True))
    if taken:
        raise ImportRefused(
            f"The inbound address{'es' if len(taken) > 1 else ''} {', '.join(taken)} already route to another "
            "organization here; remove them there first. Nothing was imported."
        )


def _objects_if_any(archive: zipfile.ZipFile, model: type[models.Model]) -> list[Any]:
    name = f"public/{model._meta.label}.json"
    return _objects(archive, name) if name in archive.NameToInfo else []


def _organization_create(exported: Organization, slug: str, schema_name: str) -> Organization:
    values = {
        f.attname: getattr(exported, f.attname)
        for f in Organization._meta.concrete_fields
        if f.attname not in OWN_FIELDS
    }
    if values.get("feed_token") and Organization.objects.filter(feed_token=values["feed_token"]).exists():
        # The original is here too: its subscribers keep the original's feed, not the copy's.
        values["feed_token"] = feed_token_new()
    organization = Organization(slug=slug, schema_name=schema_name, **values)
    # Saving clones the template into the new schema, as onboarding does.
    organization.save()
    Organization.objects.filter(pk=organization.pk).update(created_at=exported.created_at)
    organization.created_at = exported.created_at
    use_public_schema()
    return organization


def _users_match(exported: list[dict[str, Any]], result: ImportResult) -> dict[int, int]:
    """Old user id → this database's user id, matched by email; people without an account
    here get one without a password (a password never leaves the old install)."""
    user_model = get_user_model()
    mapping: dict[int, int] = {}
    for person in exported:
        email = person["email"]
        user = user_model._base_manager.filter(email__iexact=email).first()
        if user is None:
            # Their address may be a verified second address of an account here: that is them.
            address = EmailAddress.objects.filter(email__iexact=email, verified=True).select_related("user").first()
            user = address.user if address else None
        if user is None:
            user = user_model.objects.create_user(  # type: ignore[attr-defined]
                email=email,
                password=None,
                first_name=person.get("first_name", ""),
                last_name=person.get("last_name", ""),
                time_zone=person.get("time_zone", ""),
            )
            EmailAddress.objects.create(user=user, email=email, verified=bool(person.get("verified")), primary=True)
            result.users_created.append(email)
        mapping[int(person["id"])] = user.pk
    return mapping


def _users_remap(obj: models.Model, users: dict[int, int]) -> None:
    for f in user_fields(type(obj)):
        old = getattr(obj, f.attname)
        if old is None:
            continue
        new = users.get(old)
        if new is None and not f.null:
            raise ImportRefused(f"{obj._meta.label} points to user {old}, who is not in the export's people.")
        setattr(obj, f.attname, new)


def _tenant_rows_load(archive: zipfile.ZipFile, model: type[models.Model], users: dict[int, int]) -> int | None:
    """Insert the table's rows with their ids, as loaddata does (raw: nothing recomputed, the
    timestamps kept); foreign keys between tenant tables are checked at commit, so the tables'
    order does not matter. None when the archive has no such table (an older export)."""
    name = f"tenant/{model._meta.label}.json"
    if name not in archive.NameToInfo:
        return None
    count = 0
    for row in _objects(archive, name):
        _users_remap(row.object, users)
        row.save(force_insert=True)
        count += 1
    return count


def _public_rows_load(
    archive: zipfile.ZipFile,
    model: type[models.Model],
    link: str,
    organization: Organization,
    users: dict[int, int],
    result: ImportResult,
) -> None:
    label = model._meta.label
    name = f"public/{label}.json"
    if model is Domain or name not in archive.NameToInfo:
        # The host is this install's: <slug>.BASE_DOMAIN, made above.
        return
    rows = _objects(archive, name)
    if rows and _points_outside(model, link):
        # dj-stripe's customer mirror points at Stripe account and payment-method rows that
        # are not the organization's; Stripe sends it again (docs/deploy.md).
        result.skipped[label] = len(rows)
        return
    count = 0
    for row in rows:
        obj = row.object
        obj.pk = None
        setattr(obj, link, organization)
        _users_remap(obj, users)
        if not _unique_values_free(obj, result):
            result.skipped[label] = result.skipped.get(label, 0) + 1
            continue
        row.save(force_insert=True)
        count += 1
    result.rows[f"public/{label}"] = count


def _points_outside(model: type[models.Model], link: str) -> bool:
    """Whether the model has a foreign key to something the archive does not carry (neither the
    organization nor a person)."""
    user_model = get_user_model()
    return any(
        f.related_model not in (Organization, user_model)
        for f in model._meta.get_fields()
        if f.many_to_one and f.concrete and f.name != link
    )


def _unique_values_free(obj: models.Model, result: ImportResult) -> bool:
    """Make the row's unique values free in this install, or say it cannot be. A value is
    taken only when this install holds the original organization (a copy under another slug):
    a secret or a code gets a fresh random one, so the original's link or key does not open
    the copy; any other value names something outside that belongs to the original (a Stripe
    meter report, a Message Batch), so the row stays the original's."""
    model = type(obj)
    for f in _unique_fields(model):
        value = getattr(obj, f.attname)
        if value in (None, "") or not model._base_manager.filter(**{f.attname: value}).exists():
            continue
        if isinstance(f, models.UUIDField):
            setattr(obj, f.attname, uuid.uuid4())
        elif isinstance(f, models.CharField) and ("token" in f.name or "hash" in f.name):
            setattr(obj, f.attname, secrets.token_hex(min(32, (f.max_length or 64) // 2)))
        else:
            return False
        key = f"{model._meta.label}.{f.name}"
        result.renewed[key] = result.renewed.get(key, 0) + 1
    return True


def _unique_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    single = {
        constraint.fields[0]
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint) and len(constraint.fields) == 1
    }
    return [f for f in model._meta.concrete_fields if not f.primary_key and (f.unique or f.name in single)]


def _file_restore(archive: zipfile.ZipFile, name: str, schema_name: str) -> None:
    """Store one file under the name its row holds, in the organization's storage (folder or
    key prefix), copied block by block from the zip."""
    stored_name = str(PurePosixPath(name).relative_to(FILES_PREFIX.rstrip("/")))
    with storage_schema(schema_name), storage_errors("Could not store a file"), archive.open(name) as handle:
        # A file already there under this name is this organization's, left by an earlier
        # attempt or kept when its database was lost; the archive's copy is the one its rows
        # point to. The storage would otherwise save under a new name the rows do not know.
        if default_storage.exists(stored_name):
            default_storage.delete(stored_name)
        saved = default_storage.save(stored_name, File(handle, name=stored_name))
    if saved != stored_name:
        raise LifecycleError(f"The storage saved {stored_name} as {saved}; the import was rolled back.")
