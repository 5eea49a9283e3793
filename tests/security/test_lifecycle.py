"""Organization lifecycle: staff export everything of one organization, and delete it
(schema, public rows, stored files) after a confirmation; the others stay untouched."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from events.models import Attachment, Email, Event
from inbound.models import Delivery, Verdict
from organizations.lifecycle import LifecycleError, organization_delete, organization_export
from organizations.models import AllowedSender, Domain, Invitation, Membership, Organization, Role
from organizations.services import invitation_create, organization_create
from projects.models import Project
from tests.conftest import make_user
from tests.factories import AttachmentFactory, EmailFactory, EventFactory, ProjectFactory
from usage.models import DailyUsage, UsageRecord


def populate(organization: Organization, tag: str) -> None:
    """Tenant rows with stored files, and public rows, all marked with `tag`."""
    with schema_context(organization.schema_name):
        project = ProjectFactory(name=f"{tag} project")
        email = EmailFactory(project=project, subject=f"{tag} subject")
        email.raw.save(f"{tag}.eml", ContentFile(f"Subject: {tag}\r\n\r\nbody".encode()), save=True)
        AttachmentFactory(email=email, filename=f"{tag}.pdf")
        EventFactory(project=project, email=email, title=f"{tag} meeting")
    user = make_user(f"{tag}-member@example.test")
    Membership.objects.create(user=user, organization=organization, role=Role.MEMBER)
    invitation_create(
        organization=organization, email=f"{tag}-new@example.test", role="member", invited_by=None, send=False
    )
    AllowedSender.objects.create(organization=organization, pattern=f"@{tag}.example")
    Delivery.objects.create(provider="postmark", organization=organization, verdict=Verdict.REJECTED, reason=tag)
    UsageRecord.objects.create(organization=organization, provider="rules", model=tag, cost_usd=Decimal("1.5"))
    DailyUsage.objects.create(organization=organization, day="2026-11-01", provider="rules", model=tag, calls=1)


def snapshot(organization: Organization) -> dict[str, Any]:
    """Everything of one organization, to compare before and after."""
    with schema_context(organization.schema_name):
        tenant = {
            "projects": sorted(Project.objects.values_list("name", flat=True)),
            "emails": sorted(Email.objects.values_list("subject", flat=True)),
            "events": Event.objects.count(),
            "files": sorted(
                [
                    *Email.objects.exclude(raw="").values_list("raw", flat=True),
                    *Attachment.objects.values_list("file", flat=True),
                ]
            ),
        }
    public = {
        model.__name__: model.objects.filter(organization=organization).count()
        for model in (Membership, Invitation, AllowedSender, Delivery, UsageRecord, DailyUsage, Domain)
        if model is not Domain
    }
    public["domains"] = Domain.objects.filter(tenant=organization).count()
    return {"tenant": tenant, "public": public}


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


@pytest.fixture
def media(settings: Any) -> Path:
    # The tenant storage keeps its root for the process, so tests use the test MEDIA_ROOT
    # (pyproject's pytest_env); each schema has its own folder under it.
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def doomed(world: Any, other_org: Organization, media: Path) -> Organization:
    connection.set_schema_to_public()
    organization = organization_create(
        name="Doomed Ltd", slug="doomed", owner_email="owner@doomed.test", send_invitation=False
    ).organization
    populate(organization, "doomed")
    # Not "kept": Delivery has a field of that name (a kept refused message), in every export.
    populate(world.org, "stays")
    populate(other_org, "other")
    connection.set_schema_to_public()
    return organization


def test_the_export_holds_every_table_public_row_and_file(doomed, tmp_path):
    result = organization_export(organization=doomed, destination=tmp_path / "out" / "doomed.zip")
    with zipfile.ZipFile(result.path) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        emails = json.loads(archive.read("tenant/events.Email.json"))
        deliveries = json.loads(archive.read("public/inbound.Delivery.json"))
        members = json.loads(archive.read("public/members.json"))
        files = {name for name in names if name.startswith("files/")}
        raw = next(archive.read(name) for name in files if name.endswith(".eml"))
    assert manifest["organization"]["slug"] == "doomed"
    assert [e["fields"]["subject"] for e in emails] == ["doomed subject"]
    assert [d["fields"]["reason"] for d in deliveries] == ["doomed"]
    assert {"tenant/projects.Project.json", "tenant/events.Event.json", "public/usage.UsageRecord.json"} <= names
    assert {"public/organizations.Invitation.json", "public/organizations.AllowedSender.json"} <= names
    assert "doomed-member@example.test" in {m["email"] for m in members}
    assert len(files) == 2 and result.files == 2 and result.missing_files == []
    assert raw.startswith(b"Subject: doomed")
    # Nothing of any other organization is in it.
    with zipfile.ZipFile(result.path) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"stays" not in everything and b"other" not in everything


def test_delete_removes_schema_public_rows_and_files_and_nothing_else(doomed, world, other_org, media):
    kept, other = snapshot(world.org), snapshot(other_org)
    assert (media / doomed.schema_name).is_dir()
    result = organization_delete(organization=doomed)
    assert result.files == 2
    assert not schema_exists("org_doomed") and not schema_exists(doomed.schema_name)
    assert not Organization.objects.filter(slug="doomed").exists()
    assert not Domain.objects.filter(domain__startswith="doomed.").exists()
    for model in (Membership, Invitation, AllowedSender, UsageRecord, DailyUsage):
        assert not model.objects.filter(organization_id=doomed.pk).exists(), model
    assert not Delivery.objects.filter(reason="doomed").exists()  # not merely unlinked
    assert not (media / doomed.schema_name).exists()
    # The other organizations are untouched, files included.
    assert snapshot(world.org) == kept
    assert snapshot(other_org) == other
    for name in kept["tenant"]["files"]:
        assert (media / world.org.schema_name / name).is_file()
    # The member's account stays; only the membership went.
    assert Membership.objects.filter(user__email="doomed-member@example.test").count() == 0


def test_the_platform_and_the_template_cannot_be_exported_or_deleted(public, tmp_path):
    template = Organization.objects.filter(is_template=True).first()
    for organization in [public, template]:
        if organization is None:
            continue
        with pytest.raises(LifecycleError):
            organization_delete(organization=organization)
        with pytest.raises(LifecycleError):
            organization_export(organization=organization, destination=tmp_path / "x.zip")


def test_the_export_command_writes_the_zip_with_a_progress_bar(doomed, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_organization", "doomed", "--output", str(tmp_path / "d.zip"), stdout=out, stderr=err)
    assert zipfile.is_zipfile(tmp_path / "d.zip")
    assert "rows, 2 files" in out.getvalue()
    assert "tenant tables" in err.getvalue() and "100%" in err.getvalue()


def test_the_export_command_names_an_unknown_slug(db):
    with pytest.raises(CommandError, match="No organization"):
        call_command("export_organization", "nobody-here", "--no-progress")


def test_the_delete_command_asks_for_the_slug_and_stops_on_a_wrong_answer(doomed, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "doomd")
    with pytest.raises(CommandError, match="Not confirmed"):
        call_command("delete_organization", "doomed", stdout=io.StringIO())
    assert Organization.objects.filter(slug="doomed").exists()
    assert schema_exists(doomed.schema_name)


def test_the_delete_command_deletes_after_the_slug_is_typed(doomed, monkeypatch):
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or "doomed")
    out = io.StringIO()
    call_command("delete_organization", "doomed", stdout=out)
    assert prompts == ["Type the slug 'doomed' to confirm: "]
    assert "Deleted doomed" in out.getvalue()
    assert not Organization.objects.filter(slug="doomed").exists()


def test_the_delete_command_skips_the_question_with_yes(doomed, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail("asked"))
    call_command("delete_organization", "doomed", "--yes", stdout=io.StringIO())
    assert not schema_exists(doomed.schema_name)


@pytest.fixture
def staff_client(world: Any, public: Organization) -> Any:
    from django.test import Client

    world.admin.is_staff = True
    world.admin.is_superuser = True
    world.admin.save(update_fields=["is_staff", "is_superuser"])
    client = Client(HTTP_HOST="localhost")
    client.force_login(world.admin)
    return client


CHANGELIST = "/admin/organizations/organization/"


def test_the_admin_action_shows_a_confirmation_page_first(doomed, staff_client):
    response = staff_client.post(CHANGELIST, {"action": "admin_delete_action", "_selected_action": [doomed.pk]})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Type <code>doomed</code> to confirm" in body
    assert "2 stored files" in body
    assert schema_exists(doomed.schema_name)


def test_the_admin_action_refuses_a_wrong_slug(doomed, staff_client):
    data = {"action": "admin_delete_action", "_selected_action": [doomed.pk], "post": "yes", "confirm_slug": "other"}
    response = staff_client.post(CHANGELIST, data)
    assert "does not match" in response.content.decode()
    assert Organization.objects.filter(slug="doomed").exists()


def test_the_admin_action_deletes_after_the_slug_is_typed(doomed, world, other_org, staff_client):
    kept, other = snapshot(world.org), snapshot(other_org)
    data = {"action": "admin_delete_action", "_selected_action": [doomed.pk], "post": "yes", "confirm_slug": "doomed"}
    response = staff_client.post(CHANGELIST, data)
    assert response.status_code == 302
    assert not Organization.objects.filter(slug="doomed").exists()
    assert not schema_exists(doomed.schema_name)
    assert snapshot(world.org) == kept and snapshot(other_org) == other


def test_djangos_own_delete_is_not_offered(doomed, staff_client):
    assert staff_client.get(f"{CHANGELIST}{doomed.pk}/delete/").status_code == 403
    assert "delete_selected" not in staff_client.get(CHANGELIST).content.decode()


def test_staff_download_the_export_from_the_admin(doomed, staff_client):
    response = staff_client.post(CHANGELIST, {"action": "admin_export_action", "_selected_action": [doomed.pk]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert json.loads(archive.read("manifest.json"))["organization"]["slug"] == "doomed"
