"""Helpers to post real provider payloads to our inbound webhooks."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from events.models import Email
from inbound.routing import route_cache_clear
from organizations.models import Organization

POSTMARK_URL = "/anymail/postmark/inbound/"
SES_URL = "/anymail/amazon_ses/inbound/"
AUTH = "Basic " + base64.b64encode(b"webhook:test-secret").decode()


def make_message(
    *,
    sender: str = "owner@testorg.test",
    to: str = "testorg@in.localhost",
    subject: str = "Kickoff for the Harbour project",
    body: str = "Let's meet on Friday at 10:00 to kick off.\n",
    message_id: str | None = "<kickoff-1@client.test>",
    headers: dict[str, str] | None = None,
) -> bytes:
    from datetime import UTC, datetime

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


def postmark_payload(
    raw: bytes,
    *,
    event_id: str = "pm-1",
    recipient: str = "testorg@in.localhost",
    return_path: str = "owner@testorg.test",
    spf: str = "Pass",
    spam_tests: str = "DKIM_SIGNED,DKIM_VALID,DKIM_VALID_AU,SPF_PASS",
) -> dict[str, Any]:
    """A Postmark inbound payload as Postmark posts it: Return-Path first, then its SpamAssassin
    and SPF headers (as in the corpus' real payloads), then the message (`spf`/`spam_tests`
    empty: without them)."""
    headers = [{"Name": "Return-Path", "Value": f"<{return_path}>"}]
    if spam_tests:
        headers += [
            {"Name": "X-Spam-Checker-Version", "Value": "SpamAssassin 3.4.0 (2014-02-07) on p-pm-inboundg01a-aws"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "X-Spam-Score", "Value": "-0.1"},
            {"Name": "X-Spam-Tests", "Value": spam_tests},
        ]
    if spf:
        headers.append(
            {
                "Name": "Received-SPF",
                "Value": f"{spf} (sender SPF authorized) identity=mailfrom; client-ip=209.85.160.180; "
                f"helo=mail-gy0-f180.google.com; envelope-from={return_path}; receiver={recipient}",
            }
        )
    return {
        "MessageID": event_id,
        "OriginalRecipient": recipient,
        "Headers": headers,
        # Postmark posts valid UTF-8 JSON: bytes that are not UTF-8 arrive replaced.
        "RawEmail": raw.decode("utf-8", "replace"),
    }


SES_PASS = {"spfVerdict": "PASS", "dkimVerdict": "PASS", "dmarcVerdict": "PASS"}


def ses_notification(
    raw: bytes,
    *,
    event_id: str = "ses-1",
    recipient: str = "testorg@in.localhost",
    source: str = "owner@testorg.test",
    verdicts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An SNS notification of an SES receipt (SNS action, Base64), with SES's verdicts (default:
    all PASS, as for a member's own mail)."""
    verdicts = SES_PASS if verdicts is None else verdicts
    message = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-11-02T09:30:00.000Z",
            "source": source,
            "messageId": event_id,
            "destination": [recipient],
        },
        "receipt": {
            "recipients": [recipient],
            "spamVerdict": {"status": "PASS"},
            **{key: {"status": status} for key, status in verdicts.items()},
            "action": {"type": "SNS", "topicArn": "arn:aws:sns:us-east-1:123456789012:inbound", "encoding": "BASE64"},
        },
        "content": base64.b64encode(raw).decode(),
    }
    return sns_envelope(message)


def sns_envelope(message: dict[str, Any] | str, *, sns_id: str = "sns-1") -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": sns_id,
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:inbound",
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": "2026-11-02T09:30:00.000Z",
    }


@pytest.fixture
def webhook(public_client: Client) -> Client:
    public_client.defaults["HTTP_AUTHORIZATION"] = AUTH
    return public_client


@pytest.fixture
def post_postmark(webhook: Client) -> Callable[..., Any]:
    def post(payload: dict[str, Any] | bytes, **kwargs: Any) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return webhook.post(POSTMARK_URL, data=body, content_type="application/json", **kwargs)

    return post


@pytest.fixture
def post_sns(webhook: Client) -> Callable[..., Any]:
    def post(payload: dict[str, Any] | bytes, **kwargs: Any) -> Any:
        if isinstance(payload, bytes):
            body = payload
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = {}
        else:
            body, parsed = json.dumps(payload).encode(), payload
        parsed = parsed if isinstance(parsed, dict) else {}
        return webhook.post(
            SES_URL,
            data=body,
            content_type="text/plain; charset=UTF-8",
            HTTP_X_AMZ_SNS_MESSAGE_TYPE=str(parsed.get("Type", "")),
            HTTP_X_AMZ_SNS_MESSAGE_ID=str(parsed.get("MessageId", "")),
            **kwargs,
        )

    return post


@pytest.fixture
def stored(org: Organization) -> Callable[[], list[Email]]:
    """stored() → the test workspace's emails (read in its schema whatever the connection is on)."""

    def emails() -> list[Email]:
        with schema_context(org.schema_name):
            return list(Email.objects.order_by("id"))

    return emails


@pytest.fixture
def route_cache(settings: Any) -> Any:
    """The process's route cache on, as in production (the test settings turn it off)."""
    settings.INBOUND_ROUTE_CACHE_SECONDS = 10
    route_cache_clear()
    yield
    route_cache_clear()
