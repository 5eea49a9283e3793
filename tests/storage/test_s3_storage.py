"""Raw mail, attachments and exports in a bucket (MAIL_STORAGE_BUCKET), against a real
S3-compatible server on loopback: stored under the organization's key prefix, private, served
only through the views that check membership (streamed), exported, deleted with the
organization, and a bucket outage that loses nothing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from events.models import Attachment, Email, EmailState
from events.processing import email_process
from inbound.models import Delivery, Verdict
from organizations.lifecycle import organization_delete, organization_export_store
from organizations.models import Organization
from organizations.services import organization_create
from organizations.storage import TenantS3Storage
from tests.events.test_invitations import DATA as CALENDARS
from tests.events.test_invitations import email_of, meetings
from tests.factories import AttachmentFactory, EmailFactory
from tests.inbound.conftest import make_message, postmark_payload, ses_notification, sns_envelope

ROOT = Path(__file__).resolve().parent.parent.parent
PDF = b"%PDF-1.4 " + bytes(range(256)) * 40


def with_attachment(raw: bytes) -> bytes:
    message = BytesParser(policy=default_policy).parsebytes(raw)
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="plan.pdf")
    return message.as_bytes()


def test_a_webhook_message_and_its_attachment_go_under_the_organizations_prefix(world, s3, post_postmark, stored):
    raw = with_attachment(make_message())
    response = post_postmark(postmark_payload(raw))
    assert response.status_code == 200
    (email,) = stored()
    with schema_context(world.org.schema_name):
        attachment = Attachment.objects.get(email=email)
    schema = world.org.schema_name
    # The same names as on disk (MEDIA_ROOT/<schema>/…), the schema as the key prefix.
    assert email.raw.name == f"mail/{email.received_at:%Y/%m}/{email.code}.eml"
    assert s3.keys(f"{schema}/") == sorted([f"{schema}/{email.raw.name}", f"{schema}/{attachment.file.name}"])
    assert s3.read(f"{schema}/{email.raw.name}") == raw
    assert s3.read(f"{schema}/{attachment.file.name}") == PDF
    with schema_context(schema), email.raw.open("rb") as handle:
        assert handle.read() == raw


def test_objects_are_written_private_and_no_url_is_ever_made(world, s3):
    with schema_context(world.org.schema_name):
        name = default_storage.save("attachments/x/private", ContentFile(b"secret"))
        storage = default_storage
        assert isinstance(storage, TenantS3Storage)
        with pytest.raises(NotImplementedError):
            storage.url(name)
    acl = s3.client.get_object_acl(Bucket=s3.bucket, Key=f"{world.org.schema_name}/{name}")
    grantees = [grant["Grantee"] for grant in acl["Grants"]]
    # Only the bucket owner: no AllUsers or AuthenticatedUsers group, no other account.
    assert [grantee.get("Type") for grantee in grantees] == ["CanonicalUser"]
    assert grantees[0]["ID"] == acl["Owner"]["ID"]


def test_a_member_downloads_an_attachment_streamed_from_the_bucket(world, s3, client_as, monkeypatch):
    big = os.urandom(3 * 1024 * 1024)
    email = EmailFactory()
    attachment = AttachmentFactory(email=email, file=ContentFile(big, name="big.bin"), size=len(big))
    opened: list[Any] = []
    original_open = TenantS3Storage._open
    monkeypatch.setattr(TenantS3Storage, "_open", lambda self, *a: opened.append(original_open(self, *a)) or opened[-1])

    response = client_as(world.viewer).get(reverse("events:email_attachment", args=[email.code, attachment.code]))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Length"] == str(len(big))
    assert response["Content-Disposition"].startswith("attachment;")
    chunks = iter(response.streaming_content)
    first = next(chunks)
    # After the first block went out, only about that much had come over the wire from the bucket.
    (stream,) = opened
    assert len(first) == 64 * 1024
    assert stream.file.tell() < 512 * 1024 < len(big)
    assert first + b"".join(chunks) == big


def test_another_organizations_people_get_404_for_an_attachment(world, s3, client_as, other_org):
    email = EmailFactory()
    attachment = AttachmentFactory(email=email)
    link = reverse("events:email_attachment", args=[email.code, attachment.code])
    assert client_as(world.member).get(link).status_code == 200
    assert client_as(world.outsider).get(link).status_code == 404
    # On their own host the same codes name nothing: the row is in another schema.
    assert client_as(world.outsider, host=other_org.host).get(link).status_code == 404


def test_an_attachment_asked_for_while_the_bucket_is_down_answers_503(world, s3, client_as):
    email = EmailFactory()
    attachment = AttachmentFactory(email=email)
    link = reverse("events:email_attachment", args=[email.code, attachment.code])
    s3.server.stop()
    try:
        response = client_as(world.member).get(link)
    finally:
        s3.server.start()
    assert response.status_code == 503
    assert client_as(world.member).get(link).status_code == 200


def test_an_ses_s3_action_message_is_read_from_its_bucket_and_stored_in_ours(world, s3, post_sns, stored):
    raw = with_attachment(make_message(message_id="<from-s3@client.test>"))
    s3.client.put_object(Bucket=s3.ses_bucket, Key="inbound/ses-s3-1", Body=raw)
    notification = json.loads(ses_notification(raw, event_id="ses-s3-1")["Message"])
    del notification["content"]
    notification["receipt"]["action"] = {"type": "S3", "bucketName": s3.ses_bucket, "objectKey": "inbound/ses-s3-1"}
    response = post_sns(sns_envelope(notification))
    assert response.status_code == 200, response.content
    (email,) = stored()
    assert (email.provider, email.message_id) == ("amazon_ses", "<from-s3@client.test>")
    assert s3.read(f"{world.org.schema_name}/{email.raw.name}") == raw


def _postmark_outage(s3: Any, post_postmark: Any, payload: dict[str, Any]) -> Any:
    s3.server.stop()
    try:
        return post_postmark(payload)
    finally:
        s3.server.start()


def test_while_the_bucket_is_down_postmark_is_told_to_retry_and_the_retry_stores_the_message(
    world, s3, post_postmark, stored, broker_tasks
):
    raw = with_attachment(make_message())
    payload = postmark_payload(raw, event_id="pm-outage")
    schema = world.org.schema_name
    before = s3.keys(f"{schema}/")

    down = _postmark_outage(s3, post_postmark, payload)

    # docs/inbound.md: 503, the provider keeps the message; nothing is half-stored.
    assert down.status_code == 503
    assert stored() == [] and broker_tasks() == []
    assert not Delivery.objects.filter(verdict__in=[Verdict.ACCEPTED, Verdict.INVALID]).exists()
    assert s3.keys(f"{schema}/") == before
    # Postmark delivers it again once we answer: stored whole, queued once.
    again = post_postmark(payload)
    assert again.status_code == 200
    (email,) = stored()
    assert email.state == EmailState.QUEUED
    assert s3.read(f"{schema}/{email.raw.name}") == raw
    assert len(s3.keys(f"{schema}/")) == len(before) + 2
    assert broker_tasks() == [("events.tasks.email_process_task", (schema, email.pk))]


def test_while_the_bucket_is_down_ses_is_told_to_retry_for_both_actions(world, s3, post_sns, stored):
    raw = make_message(message_id="<ses-outage@client.test>")
    # SNS action: the message is in the notification; storing it fails → 503, SNS retries 5xx.
    s3.server.stop()
    try:
        sns_action = post_sns(ses_notification(raw, event_id="ses-outage-1"))
    finally:
        s3.server.start()
    # S3 action: the message cannot even be fetched → 502, SNS retries.
    s3.client.put_object(Bucket=s3.ses_bucket, Key="inbound/ses-outage-2", Body=raw)
    notification = json.loads(ses_notification(raw, event_id="ses-outage-2")["Message"])
    del notification["content"]
    notification["receipt"]["action"] = {"type": "S3", "bucketName": s3.ses_bucket, "objectKey": "inbound/ses-outage-2"}
    s3.server.stop()
    try:
        s3_action = post_sns(sns_envelope(notification, sns_id="sns-2"))
    finally:
        s3.server.start()
    assert (sns_action.status_code, s3_action.status_code) == (503, 502)
    assert stored() == []
    assert post_sns(sns_envelope(notification, sns_id="sns-2")).status_code == 200
    (email,) = stored()
    assert s3.read(f"{world.org.schema_name}/{email.raw.name}") == raw


@pytest.fixture
def doomed(world: Any, s3: Any) -> Organization:
    connection.set_schema_to_public()
    organization = organization_create(
        name="Doomed S3", slug="doomed-s3", owner_email="owner@doomed-s3.test", send_invitation=False
    ).organization
    with schema_context(organization.schema_name):
        email = EmailFactory(subject="doomed mail")
        email.raw.save("doomed.eml", ContentFile(b"Subject: doomed\r\n\r\nbody"), save=True)
        AttachmentFactory(email=email, file=ContentFile(PDF, name="doomed.pdf"))
        # A file no row points to (a message whose insert failed after its file was stored).
        default_storage.save("mail/orphan.eml", ContentFile(b"orphan"))
    with schema_context(world.org.schema_name):
        kept = EmailFactory(subject="kept mail")
        kept.raw.save("kept.eml", ContentFile(b"Subject: kept\r\n\r\nbody"), save=True)
    connection.set_schema_to_public()
    return organization


def test_the_export_is_written_to_the_organizations_prefix_with_its_files(doomed, s3):
    stored = organization_export_store(organization=doomed)
    key = f"{doomed.schema_name}/{stored.name}"
    assert stored.name.startswith("exports/doomed-s3-") and stored.name.endswith(".zip")
    assert key in s3.keys(f"{doomed.schema_name}/exports/")
    with zipfile.ZipFile(io.BytesIO(s3.read(key))) as archive:
        files = {name: archive.read(name) for name in archive.namelist() if name.startswith("files/")}
        manifest = json.loads(archive.read("manifest.json"))
    assert sorted(files.values()) == sorted([b"Subject: doomed\r\n\r\nbody", PDF])
    assert manifest["files"] == 2 and manifest["missing_files"] == []
    assert not any(b"kept" in content for content in files.values())


def test_staff_download_the_export_from_the_bucket(doomed, s3, world):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save(update_fields=["is_staff", "is_superuser"])
    client = Client(HTTP_HOST="localhost")
    client.force_login(world.admin)
    response = client.post(
        "/admin/organizations/organization/", {"action": "admin_export_action", "_selected_action": [doomed.pk]}
    )
    assert response.status_code == 200 and response.streaming
    content = b"".join(response.streaming_content)
    (key,) = s3.keys(f"{doomed.schema_name}/exports/")
    assert content == s3.read(key)
    assert response["Content-Length"] == str(len(content))


def test_deleting_the_organization_deletes_every_object_under_its_prefix_and_nothing_else(doomed, s3, world):
    organization_export_store(organization=doomed)
    others = [key for key in s3.keys("") if not key.startswith(f"{doomed.schema_name}/")]
    assert len(s3.keys(f"{doomed.schema_name}/")) == 4  # raw mail, attachment, orphan, export

    result = organization_delete(organization=doomed)

    assert result.files == 2
    assert s3.keys(f"{doomed.schema_name}/") == []
    assert [key for key in s3.keys("") if not key.startswith(f"{doomed.schema_name}/")] == others
    with schema_context(world.org.schema_name):
        kept = Email.objects.get(subject="kept mail")
    assert s3.read(f"{world.org.schema_name}/{kept.raw.name}") == b"Subject: kept\r\n\r\nbody"


def test_the_settings_switch_to_the_bucket_with_mail_storage_bucket():
    environment = {**os.environ, "DEBUG": "true", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    environment.update(
        MAIL_STORAGE_BUCKET="mail-bucket",
        MAIL_STORAGE_ENDPOINT_URL="http://127.0.0.1:9000",
        MAIL_STORAGE_REGION="auto",
        MAIL_STORAGE_ADDRESSING_STYLE="path",
    )
    code = (
        "import json; from config import settings as s; o = s.STORAGES['default']; "
        "c = o['OPTIONS'].pop('client_config'); "
        "print(json.dumps([o, c.connect_timeout, c.retries, c.s3]))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    storage, connect_timeout, retries, s3_options = json.loads(result.stdout)
    assert storage == {
        "BACKEND": "organizations.storage.TenantS3Storage",
        "OPTIONS": {
            "bucket_name": "mail-bucket",
            "endpoint_url": "http://127.0.0.1:9000",
            "region_name": "auto",
            "default_acl": None,
            "querystring_auth": False,
        },
    }
    assert (connect_timeout, retries, s3_options) == (
        3,
        {"max_attempts": 3, "mode": "standard"},
        {"addressing_style": "path"},
    )


def test_the_export_command_writes_into_the_bucket_without_output(doomed, s3):
    out = io.StringIO()
    call_command("export_organization", "doomed-s3", "--no-progress", stdout=out)
    (key,) = s3.keys(f"{doomed.schema_name}/exports/")
    assert f"Wrote {key.removeprefix(doomed.schema_name + '/')} in {doomed.schema_name}'s storage" in out.getvalue()
    with zipfile.ZipFile(io.BytesIO(s3.read(key))) as archive:
        assert json.loads(archive.read("manifest.json"))["files"] == 2


def test_an_email_whose_calendar_cannot_be_read_waits_for_the_bucket_and_is_processed_after(world, s3, harbour):
    call_command(
        "ingest_eml",
        "--org",
        "testorg",
        "--skip-sender-check",
        str(CALENDARS / "google_request.eml"),
        stdout=io.StringIO(),
    )
    email = email_of(world.org, "Invitation: Brand workshop")
    assert email.state == EmailState.QUEUED

    s3.server.stop()
    try:
        down = email_process(schema_name=world.org.schema_name, email_id=email.pk)
    finally:
        s3.server.start()

    # Not processed without its invitation, and not failed: tried again later, as after an AI outage.
    assert down.state == EmailState.QUEUED and down.retry_in
    assert "Could not read a stored calendar" in down.reason
    assert meetings(world.org) == []
    again = email_process(schema_name=world.org.schema_name, email_id=email.pk)
    assert again.state == EmailState.PROCESSED
    (meeting,) = meetings(world.org)
    assert meeting.title == "Brand workshop"
