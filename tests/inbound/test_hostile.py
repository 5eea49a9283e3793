"""Hostile webhook bodies: whatever is posted, never a 500 and never a half-stored message.

Bodies come from hypothesis (random JSON, truncated and mutated corpus payloads, MIME built
from a small grammar) and from a few hand-made extremes (deep nesting, huge headers, a
10 MB body, thousands of recipients). After every request the same invariant is checked:
each stored Email has exactly one Delivery naming it, each Delivery that names an Email
has it, and each Delivery without one says why. A 400 stores no Email.

Examples are few and derandomized (the suite stays fast and CI stable); raise
HYPOTHESIS_PROFILE=hostile-deep locally for a longer hunt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.models import Email
from inbound.models import Delivery, Verdict
from organizations.models import Organization
from tests.conftest import CORPORA
from tests.inbound.conftest import POSTMARK_URL, SES_URL, postmark_payload, ses_notification, sns_envelope
from tests.inbound.test_corpora import FakeS3Body, fake_boto, open_org  # noqa: F401 - fixtures

settings.register_profile(
    "hostile",
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "hostile-deep",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
HOSTILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE_HOSTILE", "hostile"))

RECIPIENT = "testorg@in.localhost"
CORPUS_FILES = sorted([*(CORPORA / "postmark").glob("*.json"), *(CORPORA / "ses").glob("*.json")])
PROVIDERS = ["postmark", "ses"]


def _reset(org: Organization) -> None:
    """Each example starts from nothing (the test's transaction is rolled back at the end)."""
    Delivery.objects.all().delete()
    with schema_context(org.schema_name):
        Email.objects.all().delete()


def assert_consistent(response: Any, org: Organization) -> None:
    assert response.status_code < 500, response.content[:300]
    with schema_context(org.schema_name):
        emails = {str(code) for code in Email.objects.values_list("code", flat=True)}
    deliveries = list(Delivery.objects.all())
    named = [str(d.email_code) for d in deliveries if d.email_code is not None]
    assert sorted(named) == sorted(emails), "an Email without its Delivery, or a Delivery naming no Email"
    for delivery in deliveries:
        if delivery.email_code is None:
            assert delivery.verdict in (Verdict.REJECTED, Verdict.DUPLICATE, Verdict.INVALID, Verdict.IGNORED)
            assert delivery.reason, delivery
    if response.status_code == 400:
        assert not emails
        assert any(d.verdict == Verdict.INVALID for d in deliveries)


# What an SNS action can carry (larger mail comes through an S3 action).
SNS_ACTION_MAX = 150 * 1024


@pytest.fixture
def payload_for(fake_boto) -> Callable[[str, bytes], Any]:  # noqa: F811
    """payload_for(provider, raw) → the provider's payload for `raw`: for SES, a message too
    large for an SNS action comes as SES sends it, through an S3 action (served by fake_boto)."""

    def make(provider: str, raw: bytes) -> Any:
        if provider == "postmark":
            return postmark_payload(raw, recipient=RECIPIENT)
        if len(raw) <= SNS_ACTION_MAX:
            return ses_notification(raw)
        fake_boto.return_value.client.return_value.get_object.side_effect = lambda **kwargs: {"Body": FakeS3Body(raw)}
        notification = json.loads(ses_notification(b"")["Message"])
        del notification["content"]
        notification["receipt"]["action"] = {"type": "S3", "bucketName": "mail", "objectKey": "big"}
        return sns_envelope(notification)

    return make


@pytest.fixture
def post(open_org, webhook, fake_boto) -> Callable[[str, Any], Any]:  # noqa: F811
    def send(provider: str, payload: Any) -> Any:
        _reset(open_org)
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if provider == "postmark":
            response = webhook.post(POSTMARK_URL, data=body, content_type="application/json")
        else:
            # SNS posts text/plain JSON; lower-case utf-8 makes the test client send the bytes as they are.
            response = webhook.post(
                SES_URL,
                data=body,
                content_type="text/plain; charset=utf-8",
                HTTP_X_AMZ_SNS_MESSAGE_TYPE=str(payload.get("Type", "")) if isinstance(payload, dict) else "",
                HTTP_X_AMZ_SNS_MESSAGE_ID=str(payload.get("MessageId", "")) if isinstance(payload, dict) else "",
            )
        assert_consistent(response, open_org)
        return response

    return send


# --- random JSON -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
# Dictionaries that look a little like the real thing reach deeper into the parsers.
KEYS = ["RawEmail", "OriginalRecipient", "MessageID", "Headers", "From", "To", "Type", "Message", "MessageId"]
shaped = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6)


@HOSTILE
@given(provider=st.sampled_from(PROVIDERS), payload=json_values | shaped)
def test_random_json_never_errors(post, provider, payload):
    post(provider, json.dumps(payload).encode())


@HOSTILE
@given(message=json_values | shaped | st.text(max_size=200))
def test_a_random_sns_notification_message_never_errors(post, message):
    inner = message if isinstance(message, str) else json.dumps(message)
    post("ses", sns_envelope(inner))


@HOSTILE
@given(body=st.binary(max_size=2000))
def test_random_bytes_never_error(post, body):
    post("postmark", body)
    post("ses", body)


# --- truncated and mutated corpus payloads -------------------------------------------------


def _addressed(path: Path) -> bytes:
    """The corpus payload, sent to the test workspace where its shape allows (deeper parsing)."""
    raw = path.read_bytes()
    try:
        payload = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(payload, dict):
        return raw
    if "RawEmail" in payload or "OriginalRecipient" in payload:
        payload["OriginalRecipient"] = RECIPIENT
    if isinstance(payload.get("Message"), str):
        try:
            inner = json.loads(payload["Message"])
        except ValueError:
            inner = None
        if isinstance(inner, dict) and isinstance(inner.get("receipt"), dict):
            inner["receipt"]["recipients"] = [RECIPIENT]
            payload["Message"] = json.dumps(inner)
    return json.dumps(payload).encode()


@st.composite
def mutated(draw: Any, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 8))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            out[at] = draw(st.integers(0, 255))
        elif action == "delete":
            del out[at : at + draw(st.integers(1, 64))]
        else:
            out[at:at] = draw(st.binary(min_size=1, max_size=32))
    if draw(st.booleans()):
        out = out[: draw(st.integers(0, len(out)))]
    return bytes(out)


@HOSTILE
@given(data=st.data())
def test_truncated_and_mutated_corpus_payloads_never_error(post, data):
    path = data.draw(st.sampled_from(CORPUS_FILES))
    body = data.draw(mutated(_addressed(path)))
    post("ses" if path.parent.name == "ses" or b'"Type"' in body[:200] else "postmark", body)


# --- MIME from a grammar -------------------------------------------------------------------

CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "x-bogus", "utf-7", "unicode-1-1-utf-7", "gb2312", "", '"']
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "bogus"]
TYPES = ["text/plain", "text/html", "application/octet-stream", "message/rfc822", "image/png", "garbage"]

header_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200) | st.binary(
    max_size=200
).map(lambda b: b.decode("latin-1"))


@st.composite
def leaf(draw: Any) -> bytes:
    kind = draw(st.sampled_from(TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    body = draw(st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
    head = f"Content-Type: {kind}; charset={charset}\r\nContent-Transfer-Encoding: {encoding}\r\n"
    if draw(st.booleans()):
        head += f'Content-Disposition: attachment; filename="{draw(header_text)[:80]}"\r\n'
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + body


def multipart(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw: Any) -> bytes:
        boundary = draw(st.sampled_from(["b1", "==x==", "", "a" * 70, "same"]))
        parts = draw(st.lists(children, max_size=4))
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "digest", "bogus"]))
        closing = draw(st.booleans())
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
        if closing:
            body += b"--" + boundary.encode() + b"--\r\n"
        return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode() + body

    return build()


mime_body = st.recursive(leaf(), multipart, max_leaves=12)


@st.composite
def mime_message(draw: Any) -> bytes:
    headers = [
        ("From", draw(st.sampled_from(["owner@testorg.test", "", "<>", "a@b", '"x" <pm@client.example>']))),
        ("To", RECIPIENT),
        ("Subject", draw(header_text)),
        ("Message-ID", draw(st.sampled_from(["<m1@x>", "", "<<>>", "no-brackets"]))),
        ("Date", draw(st.sampled_from(["Mon, 2 Nov 2026 09:30:00 +0000", "yesterday", "", "Thu, 31 Feb 99999"]))),
    ]
    extra = draw(st.lists(st.tuples(st.text("abcXYZ-", min_size=1, max_size=20), header_text), max_size=5))
    head = "".join(f"{name}: {value}\r\n" for name, value in [*headers, *extra])
    return head.encode("utf-8", "surrogateescape") + draw(mime_body)


@HOSTILE
@given(provider=st.sampled_from(PROVIDERS), raw=mime_message())
def test_random_mime_never_errors(post, provider, raw):
    payload = postmark_payload(raw, recipient=RECIPIENT) if provider == "postmark" else ses_notification(raw)
    post(provider, payload)


# --- hand-made extremes ----------------------------------------------------------------------


def _raw(headers: str, body: bytes) -> bytes:
    base = f"From: owner@testorg.test\r\nTo: {RECIPIENT}\r\nSubject: Extreme\r\nMessage-ID: <extreme@x>\r\n"
    return (base + headers).encode() + b"\r\n" + body


def _deep(levels: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nThe innermost part.\r\n"
    for level in range(levels):
        boundary = f"level{level}".encode()
        body = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--'
            b"" + boundary + b"\r\n" + body + b"\r\n--" + boundary + b"--\r\n"
        )
    return body


EXTREMES = {
    "deep-nesting": lambda: _raw("", _deep(300)),
    "huge-subject": lambda: _raw(f"X-Long: {'h' * 1_000_000}\r\n", b"Body\r\n"),
    "many-headers": lambda: _raw("".join(f"X-H{i}: {i}\r\n" for i in range(20_000)), b"Body\r\n"),
    "thousands-of-recipients": lambda: _raw(
        "Cc: " + ", ".join(f"r{i}@client.example" for i in range(2000)) + "\r\n", b"Hello all\r\n"
    ),
    "bad-charset": lambda: _raw("Content-Type: text/plain; charset=x-no-such\r\n", "Caf\xe9 \u2603".encode("utf-16")),
    "nul-bytes": lambda: _raw("", b"\x00" * 5000),
}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_extreme_messages_are_stored_or_refused_with_a_reason(post, payload_for, provider, name):
    raw = EXTREMES[name]()
    payload = payload_for(provider, raw)
    response = post(provider, payload)
    assert response.status_code in (200, 400, 403)
    assert Delivery.objects.exists()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_ten_megabyte_message_is_stored_under_the_default_limit(post, payload_for, provider, stored):
    assert django_settings.INBOUND_MAX_MESSAGE_BYTES == 25 * 1024 * 1024
    raw = _raw("Content-Type: text/plain\r\n", b"All work and no play. " * 480_000)
    payload = payload_for(provider, raw)
    assert post(provider, payload).status_code == 200
    (delivery,) = Delivery.objects.all()
    assert delivery.verdict == Verdict.ACCEPTED
    assert len(stored()) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_message_over_the_limit_is_rejected_with_the_reason(post, payload_for, provider, settings, stored):
    settings.INBOUND_MAX_MESSAGE_BYTES = 50_000
    raw = _raw("", b"x" * 60_000)
    payload = payload_for(provider, raw)
    response = post(provider, payload)
    assert response.status_code == (403 if provider == "postmark" else 200)
    (delivery,) = Delivery.objects.all()
    assert delivery.verdict == Verdict.REJECTED
    assert delivery.reason.startswith("Message too large")
    assert "limit 50000" in delivery.reason
    assert stored() == []


def test_a_request_body_far_over_the_limit_is_refused_before_parsing(post, settings):
    settings.INBOUND_MAX_MESSAGE_BYTES = 10_000
    response = post("postmark", b"{" + b" " * 2_000_000 + b"}")
    assert response.status_code == 413
    (delivery,) = Delivery.objects.all()
    assert (delivery.verdict, delivery.reason) == (Verdict.INVALID, "Payload too large")
