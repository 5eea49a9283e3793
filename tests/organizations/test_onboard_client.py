from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from organizations.models import AllowedSender, Domain, Invitation, Organization
from tests.worker import run_queued_tasks


def onboard(*args: str) -> str:
    out = io.StringIO()
    call_command("onboard_client", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def on_public(db, session_orgs):
    connection.set_schema_to_public()


def test_it_creates_an_organization_with_host_address_and_owner_invitation(
    on_public, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = onboard(
            "--name",
            "Acme Studio",
            "--slug",
            "acme-studio",
            "--owner-email",
            "Owner@Acme.example",
            "--plan",
            "professional",
            "--sender-policy",
            "allowlist",
            "--allow-sender",
            "@client.com",
            "--allow-sender",
            "pm@other.com",
        )
    organization = Organization.objects.get(slug="acme-studio")
    assert organization.schema_name == "org_acme_studio"
    assert organization.plan == "professional"
    assert organization.sender_policy == "allowlist"
    assert Domain.objects.filter(tenant=organization, domain="acme-studio.localhost", is_primary=True).exists()
    assert organization.inbound_address == "acme-studio@in.localhost"
    assert set(AllowedSender.objects.filter(organization=organization).values_list("pattern", flat=True)) == {
        "@client.com",
        "pm@other.com",
    }
    invitation = Invitation.objects.get(organization=organization)
    assert invitation.email == "owner@acme.example" and invitation.role == "owner"
    assert "acme-studio@in.localhost" in output
    assert "owner invitation: the worker mails it to owner@acme.example" in output
    assert mail.outbox == []
    run_queued_tasks("organizations.tasks.")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@acme.example"]
    assert "/invite/" in mail.outbox[0].body


def test_it_creates_the_schema_by_cloning_the_template(on_public):
    onboard("--name", "Clone Co", "--slug", "clone-co", "--owner-email", "o@clone.example", "--no-invite")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'events_event'",
            ["org_clone_co"],
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "testorg"], "is taken"),
        (["--slug", "admin"], "is reserved"),
        (["--slug", "www"], "is reserved"),
        (["--slug", "Bad Slug!"], "not a valid slug"),
        (["--slug", "fine-slug", "--plan", "platinum"], "Unknown plan"),
        (["--slug", "fine-slug", "--sender-policy", "everyone"], "Unknown sender policy"),
        (["--slug", "fine-slug", "--allow-sender", "not an address"], "not an email address"),
    ],
)
def test_it_refuses_bad_input_with_a_clear_message_and_exit_code_2(on_public, args, message):
    with pytest.raises(CommandError, match=message) as excinfo:
        onboard("--name", "X", "--owner-email", "o@x.example", *args)
    assert excinfo.value.returncode == 2
    assert not Organization.objects.filter(slug="fine-slug").exists()


def test_it_updates_an_existing_organization_with_update(on_public):
    onboard("--name", "Beta", "--slug", "beta", "--owner-email", "o@beta.example", "--no-invite")
    onboard(
        "--name", "Beta Studio", "--slug", "beta", "--owner-email", "o@beta.example", "--plan", "enterprise", "--update"
    )
    organization = Organization.objects.get(slug="beta")
    assert organization.name == "Beta Studio"
    assert organization.plan == "enterprise"
    assert Organization.objects.filter(slug="beta").count() == 1
    assert Invitation.objects.filter(organization=organization).count() == 1
