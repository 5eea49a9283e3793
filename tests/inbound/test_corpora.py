"""Every real payload of the corpora (tests/corpora) through the real webhook endpoints.

The bar: never a 5xx, and every message is either stored or has a Delivery row saying why.
"""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django_tenants.utils import schema_context

from events.models import Email
from inbound.models import Delivery, Verdict
from organizations.models import Organization, SenderPolicy
from tests.conftest import CORPORA
from tests.inbound.conftest import postmark_payload, ses_notification

MIME = sorted((CORPORA / "mime").glob("*"))
POSTMARK = sorted((CORPORA / "postmark").glob("*.json"))
SES = sorted((CORPORA / "ses").glob("*.json"))
S3_MESSAGE = CORPORA / "mime" / "aws-actionmailbox-ses_s3_email.eml"


@pytest.fixture
def open_org(org: Organization, settings: Any) -> Organization:
    """The test workspace accepting mail from anyone, without a loop limit in the way."""
    Organization.objects.filter(pk=org.pk).update(sender_policy=SenderPolicy.ANYONE)
    settings.INBOUND_LOOP_LIMIT = 100_000
    return org


def stdlib_text(raw: bytes) -> str | None:
    """The plain-text body as Python's email package reads it; None when it cannot."""
    try:
        message = message_from_bytes(raw, _class=EmailMessage, policy=default_policy)
        body = message.get_body(preferencelist=("plain",))
        if body is None:
            return None
        content = body.get_content()
    except Exception:  # noqa: BLE001 - a message Python cannot read has no reference value
        return None
    return content if isinstance(content, str) else None


def normalized(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\x00", "").strip()


class FakeS3Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def iter_chunks(self, chunk_size: int = 1024) -> Any:
        for start in range(0, len(self.data), chunk_size):
            yield self.data[start : start + chunk_size]

    def close(self) -> None:
        pass


@pytest.fixture
def fake_boto(monkeypatch: pytest.MonkeyPatch) -> mock.MagicMock:
    """boto3 sessions whose S3 client serves the corpus' S3 message and whose SNS client confirms."""
    session = mock.MagicMock()
    session.return_value.client.return_value.get_object.side_effect = lambda **kwargs: {
        "Body": FakeS3Body(S3_MESSAGE.read_bytes())
    }
    monkeypatch.setattr("boto3.session.Session", session)
    return session


@pytest.mark.parametrize("path", POSTMARK, ids=lambda p: p.name)
def test_it_answers_every_postmark_corpus_payload_without_a_server_error(path: Path, open_org, post_postmark):
    response = post_postmark(path.read_bytes())
    assert response.status_code in (200, 400, 403)
    if response.status_code != 400:
        delivery = Delivery.objects.get()
        assert delivery.verdict in (Verdict.ACCEPTED, Verdict.REJECTED, Verdict.IGNORED, Verdict.HELD)
        assert delivery.verdict == Verdict.ACCEPTED or delivery.reason


@pytest.mark.parametrize("path", SES, ids=lambda p: p.name)
def test_it_answers_every_ses_corpus_payload_without_a_server_error(path: Path, open_org, post_sns, fake_boto):
    response = post_sns(path.read_bytes())
    assert response.status_code in (200, 400, 403)
    for delivery in Delivery.objects.all():
        assert delivery.verdict == Verdict.ACCEPTED or delivery.reason


def test_it_fetches_an_s3_action_message_from_s3(open_org, post_sns, fake_boto, stored):
    payload = json.loads((CORPORA / "ses" / "aws-actionmailbox-ses_inbound_email_s3.json").read_bytes())
    message = json.loads(payload["Message"])
    message["receipt"]["recipients"] = ["testorg@in.localhost"]
    payload["Message"] = json.dumps(message)
    response = post_sns(payload)
    assert response.status_code == 200
    (email,) = stored()
    assert email.provider == "amazon_ses"
    bucket_call = fake_boto.return_value.client.return_value.get_object.call_args
    assert bucket_call.kwargs == {
        "Bucket": message["receipt"]["action"]["bucketName"],
        "Key": message["receipt"]["action"]["objectKey"],
    }
    assert normalized(email.text) == normalized(stdlib_text(S3_MESSAGE.read_bytes()) or "")


def _check_stored_or_explained(raw: bytes, event_id: str, org: Organization) -> None:
    """Stored with the text Python reads from `raw` (when it reads any), or a Delivery saying why."""
    delivery = Delivery.objects.get(event_id=event_id)
    if delivery.email_code is None:
        assert delivery.reason, f"{event_id} was neither stored nor explained"
        return
    with schema_context(org.schema_name):
        email = Email.objects.get(code=delivery.email_code)
    expected = stdlib_text(raw)
    if expected is not None and expected.strip():
        assert normalized(email.text) == normalized(expected.replace("\x00", "").encode("utf-8", "replace").decode())


@pytest.mark.parametrize("path", MIME, ids=lambda p: p.name)
def test_it_stores_every_mime_corpus_message_sent_through_ses(path: Path, open_org, post_sns):
    raw = path.read_bytes()
    response = post_sns(ses_notification(raw, event_id=f"ses-{path.name}"))
    assert response.status_code in (200, 403)
    _check_stored_or_explained(raw, f"ses-{path.name}", open_org)


@pytest.mark.parametrize("path", MIME, ids=lambda p: p.name)
def test_it_stores_every_mime_corpus_message_sent_as_postmark_raw_email(path: Path, open_org, post_postmark):
    raw = path.read_bytes()
    response = post_postmark(postmark_payload(raw, event_id=f"pm-{path.name}"))
    assert response.status_code in (200, 403)
    # What Postmark can deliver in JSON: the message as UTF-8, undecodable bytes replaced.
    _check_stored_or_explained(raw.decode("utf-8", "replace").encode(), f"pm-{path.name}", open_org)


def stdlib_message_id(raw: bytes) -> str | None:
    try:
        value = message_from_bytes(raw, _class=EmailMessage, policy=default_policy)["Message-ID"]
    except Exception:  # noqa: BLE001 - a message Python cannot read has no reference value
        return None
    found = re.findall(r"<[^<>\s]+>", str(value or ""))
    return found[0] if found else None


def test_posting_the_mime_corpus_twice_stores_each_distinct_message_once(open_org, post_postmark, stored):
    statuses = []
    for _ in range(2):
        for path in MIME:
            # A redelivery by Postmark keeps its event id.
            response = post_postmark(postmark_payload(path.read_bytes(), event_id=f"pm-{path.name}"))
            statuses.append(response.status_code)
        if len(statuses) == len(MIME):
            first_round = [email.message_id for email in stored()]
            first_deliveries = list(Delivery.objects.all())
    assert all(status < 500 for status in statuses)
    assert [email.message_id for email in stored()] == first_round
    assert len(first_round) == len({delivery.message_id for delivery in first_deliveries})
    with_ids = {stdlib_message_id(path.read_bytes().decode("utf-8", "replace").encode()) for path in MIME} - {None}
    assert with_ids <= set(first_round)
    second_round = Delivery.objects.exclude(pk__in=[d.pk for d in first_deliveries])
    assert second_round.count() == len(MIME)
    assert set(second_round.values_list("verdict", flat=True)) == {Verdict.DUPLICATE}


def _json_or_none(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except ValueError:
        return None


INBOUND_POSTMARK = [p for p in POSTMARK if isinstance(_json_or_none(p), dict) and "RecordType" not in _json_or_none(p)]


@pytest.mark.parametrize("path", INBOUND_POSTMARK, ids=lambda p: p.name)
def test_it_stores_every_postmark_corpus_message_addressed_to_the_workspace(
    path: Path, open_org, post_postmark, stored
):
    payload = json.loads(path.read_bytes())
    payload["OriginalRecipient"] = "testorg+harbour@in.localhost"
    response = post_postmark(payload)
    assert response.status_code == 200
    # Stored either way: spam-flagged mail is kept as ignored, re-processable from the inbox.
    delivery = Delivery.objects.get()
    assert delivery.verdict == Verdict.ACCEPTED or (delivery.verdict, delivery.reason) == (
        Verdict.IGNORED,
        "Flagged as spam by the mail provider",
    )
    (email,) = stored()
    assert email.project_hint == "harbour"
    # With RawEmail we store that message; without it, anymail rebuilds one from TextBody.
    expected = stdlib_text(payload["RawEmail"].encode()) if "RawEmail" in payload else payload.get("TextBody")
    if expected and expected.strip():
        assert normalized(email.text) == normalized(expected)


def _ses_inbound_messages() -> list[Path]:
    found = []
    for path in SES:
        envelope = _json_or_none(path)
        if not isinstance(envelope, dict) or envelope.get("Type") != "Notification":
            continue
        try:
            message = json.loads(envelope.get("Message", ""))
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("notificationType") == "Received":
            found.append(path)
    return found


@pytest.mark.parametrize("path", _ses_inbound_messages(), ids=lambda p: p.name)
def test_it_stores_every_ses_corpus_message_addressed_to_the_workspace(
    path: Path, open_org, post_sns, fake_boto, stored
):
    import base64

    envelope = json.loads(path.read_bytes())
    message = json.loads(envelope["Message"])
    message.setdefault("receipt", {})["recipients"] = ["testorg@in.localhost"]
    envelope["Message"] = json.dumps(message)
    response = post_sns(envelope)
    assert response.status_code == 200
    # Stored either way: spam-flagged mail is kept as ignored, re-processable from the inbox.
    delivery = Delivery.objects.get()
    assert delivery.verdict == Verdict.ACCEPTED or (delivery.verdict, delivery.reason) == (
        Verdict.IGNORED,
        "Flagged as spam by the mail provider",
    )
    (email,) = stored()
    action = message["receipt"].get("action", {})
    if action.get("type") == "S3":
        raw = S3_MESSAGE.read_bytes()
    elif action.get("encoding") == "BASE64":
        raw = base64.b64decode(message["content"])
    else:
        raw = message["content"].encode()
    expected = stdlib_text(raw)
    if expected and expected.strip():
        assert normalized(email.text) == normalized(expected)
