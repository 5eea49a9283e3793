"""import_organization: an organization's export becomes the same organization again, in this
install after a disaster took it, or in another one.

"Another install" is played by the test database itself: once after the original was deleted
(the restore: same slug, a new schema, new public ids), once under another slug while the
original is still there (a move into a database that already holds the organization, the
hardest case for unique values). The organization is built through the real pipeline: mail
posted to the Postmark webhook, processed by the worker's task, an event edited by a person.
"""

from __future__ import annotations

import difflib
import io
import json
import re
import zipfile
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from api.models import ApiKeyScope
from api.services import api_key_create
from events.models import Attachment, Email, Event
from inbound.models import Delivery, Verdict
from organizations.lifecycle import organization_delete, organization_export
from organizations.models import AllowedSender, Domain, Invitation, Membership, Organization, Role
from organizations.portability import ImportRefused, organization_import
from organizations.services import invitation_create, organization_create
from organizations.storage import organization_files_delete_all
from projects.models import Project
from tests.conftest import make_user
from tests.inbound.conftest import AUTH, POSTMARK_URL, make_message, postmark_payload
from tests.worker import run_queued_tasks

SLUG = "porto"
OWNER = "owner@porto.test"
MEMBER = "member@porto.test"

CLIENT = "priya@harbourmuseum.example"
MAIL = [
    (
        "Harbour Museum website redesign - kickoff",
        "Hi Olivia,\n\nThanks for the proposal. We'd like to go ahead with the website redesign.\n\n"
        "Can we do a kickoff meeting on Tuesday 10 November 2026 at 10am? Our whole team will join.\n\n"
        "The deposit of $2,400 will be paid by Friday 13 November 2026.\n\nBest,\nPriya Shah\nHarbour Museum",
    ),
    (
        "Re: Harbour Museum website redesign - kickoff",
        "Hi Olivia,\n\nWe decided to go with option B, the one with the large photo header.\n\n"
        "Could you send the revised design by 20 November 2026?\n\nThanks,\nPriya",
    ),
    (
        "Harbour Museum - launch date",
        "Hi Olivia,\n\nWe're targeting the launch on 1 December 2026. The final invoice of $3,600 is due on launch.\n\nPriya",
    ),
]


def deliver(organization: Organization, n: int, subject: str, body: str, *, attachment: bool = False) -> Any:
    raw = make_message(
        sender=f"Priya Shah <{CLIENT}>",
        to=f"Olivia <{OWNER}>, {organization.inbound_address}",
        subject=subject,
        body=body,
        message_id=f"<{organization.slug}-{n}@client.test>",
    )
    if attachment:
        message = message_from_bytes(raw, policy=policy.default)
        message.add_attachment(b"%PDF-1.4 drawings", maintype="application", subtype="pdf", filename="plan.pdf")  # type: ignore[attr-defined]
        raw = message.as_bytes()
    payload = postmark_payload(
        raw, event_id=f"pm-{organization.slug}-{n}", recipient=organization.inbound_address, return_path=CLIENT
    )
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=AUTH)
    return client.post(POSTMARK_URL, data=json.dumps(payload), content_type="application/json")


@pytest.fixture
def porto(world: Any, media: Path) -> Any:
    """An organization with a team, mail (one with an attachment) filed into projects with
    their events, an event a person edited, sender rules, a pending invitation and an API key."""
    connection.set_schema_to_public()
    organization = organization_create(
        name="Porto Design",
        slug=SLUG,
        owner_email=OWNER,
        plan="professional",
        send_invitation=False,
        sender_policy="allowlist",
    ).organization
    owner, member = make_user(OWNER), make_user(MEMBER)
    Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    Membership.objects.create(user=member, organization=organization, role=Role.VIEWER, feed_token="member-feed")
    AllowedSender.objects.create(organization=organization, pattern="@harbourmuseum.example")
    invitation_create(organization=organization, email="new@porto.test", role="member", invited_by=owner, send=False)
    for n, (subject, body) in enumerate(MAIL):
        assert deliver(organization, n, subject, body, attachment=n == 0).status_code == 200
    run_queued_tasks("events.tasks.")
    with schema_context(organization.schema_name):
        event = Event.objects.order_by("pk").first()
        assert event is not None, "the worker found no event in the mail"
        Event.objects.filter(pk=event.pk).update(title="Kickoff (moved online)", edited_by=member)
        assert Attachment.objects.count() == 1 and Project.objects.count() >= 1
    key = api_key_create(organization=organization, actor=owner, name="CRM", scope=ApiKeyScope.READ)
    connection.set_schema_to_public()
    yield organization, key.secret
    # Files are outside the rolled-back transaction.
    for schema in (organization.schema_name, "org_porto_moved"):
        organization_files_delete_all(schema)


@pytest.fixture
def media(settings: Any) -> Path:
    return Path(settings.MEDIA_ROOT)


def normalized(html: str, organization: Organization) -> str:
    """A page without what differs on every request (CSRF tokens, CSP nonces), with its host and
    inbound address as placeholders."""
    html = re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": |nonce=|data-csrf-token=)"?[\w-]+"?', r"\1…", html)
    html = re.sub(r'"csrfToken": "[^"]+"', "", html)
    inbound = organization.inbound_address.split("@")[1]
    html = re.sub(rf"\b{organization.slug}(\+[\w-]+)?@{re.escape(inbound)}", r"SLUG\1@INBOUND", html)
    return html.replace(organization.host, "HOST")


def seen(organization: Organization, api_key: str | None) -> dict[str, Any]:
    """What the owner sees: the project list, each timeline, the inbox, and the API's answers."""
    connection.set_schema_to_public()
    owner = User.objects.get(email=OWNER)
    client = Client(HTTP_HOST=organization.host)
    client.force_login(owner)
    pages: dict[str, Any] = {}
    with schema_context(organization.schema_name):
        codes = list(Project.objects.order_by("name").values_list("code", flat=True))
    for url in ["/projects/", *[f"/projects/{code}/" for code in codes], "/inbox/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = normalized(response.content.decode(), organization)
    if api_key is not None:
        api = Client(HTTP_HOST=organization.host, HTTP_AUTHORIZATION=f"Bearer {api_key}")
        for url in ["/api/v1/projects", "/api/v1/events", "/api/v1/emails"]:
            response = api.get(url)
            assert response.status_code == 200, url
            pages[url] = response.json()
        for item in pages["/api/v1/emails"]["items"]:
            pages[f"/api/v1/emails/{item['code']}"] = api.get(f"/api/v1/emails/{item['code']}").json()
    connection.set_schema_to_public()
    return pages


def same(after: dict[str, Any], before: dict[str, Any]) -> bool:
    """Whether two seen() are equal; the difference of each page that is not, printed."""
    for key in before:
        if after.get(key) != before[key]:
            a = before[key] if isinstance(before[key], str) else json.dumps(before[key], indent=1)
            b = after.get(key) if isinstance(after.get(key), str) else json.dumps(after.get(key), indent=1)
            print(key, "".join(list(difflib.unified_diff(a.splitlines(True), b.splitlines(True)))[:80]))
    return after == before


def export(organization: Organization, tmp_path: Path) -> Path:
    return organization_export(organization=organization, destination=tmp_path / "porto.zip").path


def test_a_deleted_organization_comes_back_the_same_from_its_export(porto, tmp_path):
    organization, api_key = porto
    before = seen(organization, api_key)
    with schema_context(organization.schema_name):
        raw_before = {e.code: e.raw.read() for e in Email.objects.all()}
    links = set(Invitation.objects.filter(organization=organization).values_list("token_hash", flat=True))
    archive = export(organization, tmp_path)
    organization_delete(organization=organization)
    assert not Organization.objects.filter(slug=SLUG).exists()

    result = organization_import(archive_path=archive)

    restored = result.organization
    assert (restored.slug, restored.schema_name, restored.plan) == (SLUG, "org_porto", "professional")
    assert restored.pk != organization.pk
    assert result.users_created == [] and result.renewed == {} and result.files == 4
    assert same(seen(restored, api_key), before)  # the same pages, and the same key answers the same JSON
    assert any("Kickoff (moved online)" in page for url, page in before.items() if url.startswith("/projects/"))
    assert len(before["/api/v1/events"]["items"]) >= 3 and len(before["/api/v1/emails"]["items"]) == 3
    with schema_context(restored.schema_name):
        assert {e.code: e.raw.read() for e in Email.objects.all()} == raw_before
        assert Attachment.objects.get().file.read() == b"%PDF-1.4 drawings"
    members = Membership.objects.filter(organization=restored)
    assert {(m.user.email, m.role) for m in members} == {(OWNER, Role.OWNER), (MEMBER, Role.VIEWER)}
    assert members.get(user__email=MEMBER).feed_token == "member-feed"
    invitations = Invitation.objects.filter(organization=restored)
    assert sorted(invitations.values_list("email", flat=True)) == ["new@porto.test", OWNER]
    assert set(invitations.values_list("token_hash", flat=True)) == links  # the mailed links still open
    assert AllowedSender.objects.get(organization=restored).pattern == "@harbourmuseum.example"
    assert Domain.objects.get(tenant=restored).domain == restored.host


def test_mail_to_the_restored_organization_is_routed_to_it(porto, tmp_path):
    organization, _ = porto
    archive = export(organization, tmp_path)
    organization_delete(organization=organization)
    restored = organization_import(archive_path=archive).organization

    assert (
        deliver(restored, 10, "Harbour Museum website: photos", "The photo shoot is on 12 November 2026.").status_code
        == 200
    )

    delivery = Delivery.objects.filter(organization=restored).order_by("-pk").first()
    assert delivery is not None and delivery.verdict == Verdict.ACCEPTED
    with schema_context(restored.schema_name):
        email = Email.objects.get(code=delivery.email_code)
        assert email.subject == "Harbour Museum website: photos"
        # A new row does not collide with a restored id.
        assert email.pk > max(Email.objects.exclude(pk=email.pk).values_list("pk", flat=True))
    run_queued_tasks("events.tasks.")
    with schema_context(restored.schema_name):
        assert Email.objects.get(code=delivery.email_code).state == "processed"


def test_an_organization_imported_beside_its_original_is_a_copy_that_shares_no_secret(porto, tmp_path):
    organization, api_key = porto
    before = seen(organization, api_key=None)
    archive = export(organization, tmp_path)

    result = organization_import(archive_path=archive, slug="porto-moved")

    copy = result.organization
    assert (copy.slug, copy.schema_name, copy.inbound_address) == (
        "porto-moved",
        "org_porto_moved",
        "porto-moved@in.localhost",
    )
    assert same(seen(copy, api_key=None), before)
    # The original's API key, invitation link and feed addresses do not open the copy.
    assert (
        Client(HTTP_HOST=copy.host, HTTP_AUTHORIZATION=f"Bearer {api_key}").get("/api/v1/projects").status_code == 401
    )
    assert set(result.renewed) == {
        "api.ApiKey.code",
        "api.ApiKey.key_hash",
        "organizations.Invitation.code",
        "organizations.Invitation.token_hash",
        "organizations.Membership.feed_token",
    }
    assert Membership.objects.get(organization=copy, user__email=MEMBER).feed_token != "member-feed"
    # A key made for the copy reads the same answers as the original's key reads there.
    copy_key = api_key_create(organization=copy, actor=None, name="CRM", scope=ApiKeyScope.READ).secret
    connection.set_schema_to_public()
    original_api, copy_api = seen(organization, api_key), seen(copy, copy_key)
    assert {k: v for k, v in copy_api.items() if k.startswith("/api/")} == {
        k: v for k, v in original_api.items() if k.startswith("/api/")
    }
    # Mail to each address goes to its own organization.
    deliver(copy, 20, "Riverside Clinic signage: proofs", "Proofs attached.")
    deliver(organization, 21, "Riverside Clinic signage: invoice", "Invoice attached.")
    with schema_context(copy.schema_name):
        assert Email.objects.filter(subject__endswith="proofs").exists()
        assert not Email.objects.filter(subject__endswith="invoice").exists()
    with schema_context(organization.schema_name):
        assert not Email.objects.filter(subject__endswith="proofs").exists()


def test_people_without_an_account_here_get_one_without_a_password(porto, tmp_path):
    organization, _ = porto
    archive = export(organization, tmp_path)
    organization_delete(organization=organization)
    # This install has never seen them (the account is someone else's now).
    User.objects.filter(email=MEMBER).update(email="renamed@porto.test")
    EmailAddress.objects.filter(email=MEMBER).update(email="renamed@porto.test")

    result = organization_import(archive_path=archive)

    assert result.users_created == [MEMBER]
    member = User.objects.get(email=MEMBER)
    assert not member.has_usable_password()
    assert Membership.objects.get(organization=result.organization, user=member).role == Role.VIEWER
    # The event they edited still names them, by their new id.
    with schema_context(result.organization.schema_name):
        assert Event.objects.get(title="Kickoff (moved online)").edited_by_id == member.pk


def test_a_person_is_matched_by_a_verified_second_address_of_their_account(porto, tmp_path):
    organization, _ = porto
    archive = export(organization, tmp_path)
    organization_delete(organization=organization)
    member = User.objects.get(email=MEMBER)
    User.objects.filter(pk=member.pk).update(email="pat@elsewhere.test")

    result = organization_import(archive_path=archive)

    assert result.users_created == []
    assert Membership.objects.get(organization=result.organization, role=Role.VIEWER).user_id == member.pk


def test_it_refuses_a_slug_that_exists_here_and_writes_nothing(porto, tmp_path):
    organization, _ = porto
    archive = export(organization, tmp_path)
    count = Organization.objects.count()
    with pytest.raises(ImportRefused, match="slug 'porto' exists here already"):
        organization_import(archive_path=archive)
    assert Organization.objects.count() == count


def test_it_refuses_an_inbound_alias_that_routes_elsewhere_here(porto, tmp_path, other_org):
    organization, _ = porto
    organization.inbound_aliases.create(address="projects@porto.example")
    archive = export(organization, tmp_path)
    organization.inbound_aliases.all().delete()
    other_org.inbound_aliases.create(address="projects@porto.example")
    with pytest.raises(ImportRefused, match=r"projects@porto\.example already route"):
        organization_import(archive_path=archive, slug="porto-moved")
    assert not Organization.objects.filter(slug="porto-moved").exists()


def test_it_refuses_an_export_written_before_imports_existed(porto, tmp_path):
    organization, _ = porto
    archive = export(organization, tmp_path)
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(old, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "manifest.json":
                manifest = json.loads(data)
                del manifest["format"]
                data = json.dumps(manifest).encode()
            target.writestr(name, data)
    with pytest.raises(ImportRefused, match="export the organization again"):
        organization_import(archive_path=old, slug="porto-moved")


def test_the_command_imports_and_reports_what_it_did(porto, tmp_path):
    organization, _ = porto
    archive = export(organization, tmp_path)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_organization", str(archive), "--slug", "porto-moved", stdout=out, stderr=err)
    assert "Imported Porto Design as porto-moved (schema org_porto_moved)" in out.getvalue()
    assert "inbound address porto-moved@in.localhost" in out.getvalue()
    assert "a new one was made" in out.getvalue()
    assert "tenant tables" in err.getvalue() and "100%" in err.getvalue()


def test_the_command_names_what_it_refuses(porto, tmp_path):
    organization, _ = porto
    archive = export(organization, tmp_path)
    with pytest.raises(CommandError, match="exists here already"):
        call_command("import_organization", str(archive), "--no-progress", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_organization", str(tmp_path / "none.zip"), stdout=io.StringIO())
