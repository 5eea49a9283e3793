from __future__ import annotations

import base64
import json
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from events.models import EmailState
from inbound.models import Delivery, Verdict
from tests.inbound.conftest import POSTMARK_URL, SES_URL, make_message, postmark_payload, ses_notification


def test_it_stores_a_member_message_posted_by_postmark_and_queues_it_in_the_same_transaction(
    world, post_postmark, stored, broker_tasks
):
    response = post_postmark(postmark_payload(make_message()))
    assert response.status_code == 200
    (email,) = stored()
    assert email.subject == "Kickoff for the Harbour project"
    assert email.state == EmailState.QUEUED
    assert email.text.startswith("Let's meet on Friday")
    assert email.envelope_sender == "owner@testorg.test"
    assert email.raw.name.endswith(".eml")
    delivery = Delivery.objects.get()
    assert (delivery.verdict, delivery.organization, delivery.email_code) == (Verdict.ACCEPTED, world.org, email.code)
    assert broker_tasks() == [("events.tasks.email_process_task", (world.org.schema_name, email.pk))]


def test_it_stores_a_member_message_posted_by_ses(world, post_sns, stored):
    response = post_sns(ses_notification(make_message()))
    assert response.status_code == 200
    (email,) = stored()
    assert (email.provider, email.provider_event_id) == ("amazon_ses", "ses-1")


def test_it_answers_a_repeated_delivery_with_200_and_stores_nothing_new(world, post_postmark, stored):
    first = post_postmark(postmark_payload(make_message(), event_id="pm-1"))
    again = post_postmark(postmark_payload(make_message(), event_id="pm-1"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert len(stored()) == 1
    assert list(Delivery.objects.order_by("id").values_list("verdict", flat=True)) == [
        Verdict.ACCEPTED,
        Verdict.DUPLICATE,
    ]


def test_it_dedupes_on_the_provider_event_id_even_when_the_message_id_differs(world, post_sns, stored):
    post_sns(ses_notification(make_message(message_id="<a@client.test>"), event_id="same"))
    post_sns(ses_notification(make_message(message_id="<b@client.test>"), event_id="same"))
    assert len(stored()) == 1


def test_it_tells_postmark_to_stop_retrying_mail_for_an_unknown_recipient(world, post_postmark, stored):
    response = post_postmark(postmark_payload(make_message(to="nobody@in.localhost"), recipient="nobody@in.localhost"))
    assert response.status_code == 403
    assert stored() == []
    delivery = Delivery.objects.get()
    assert (delivery.verdict, delivery.organization) == (Verdict.REJECTED, None)
    assert "Unknown recipient" in delivery.reason


def test_it_answers_ses_200_for_an_unauthorized_sender_with_the_reason_recorded(world, post_sns, stored):
    response = post_sns(ses_notification(make_message(sender="stranger@elsewhere.test")))
    assert response.status_code == 200
    assert stored() == []
    delivery = Delivery.objects.get()
    assert (delivery.verdict, delivery.organization) == (Verdict.REJECTED, world.org)
    assert "sender policy" in delivery.reason


def test_it_refuses_requests_without_credentials(world, public_client):
    body = json.dumps(postmark_payload(make_message()))
    postmark = public_client.post(POSTMARK_URL, data=body, content_type="application/json")
    ses = public_client.post(SES_URL, data=json.dumps(ses_notification(make_message())), content_type="text/plain")
    assert (postmark.status_code, ses.status_code) == (400, 401)
    assert not Delivery.objects.exists()


def test_it_refuses_requests_with_wrong_credentials(world, public_client):
    wrong = "Basic " + base64.b64encode(b"webhook:guess").decode()
    response = public_client.post(
        POSTMARK_URL,
        data=json.dumps(postmark_payload(make_message())),
        content_type="application/json",
        HTTP_AUTHORIZATION=wrong,
    )
    assert response.status_code == 400
    assert not Delivery.objects.exists()


def test_it_refuses_everything_when_no_secret_is_configured_outside_debug(world, post_postmark, settings):
    settings.ANYMAIL = {}
    response = post_postmark(postmark_payload(make_message()))
    assert response.status_code == 403
    assert not Delivery.objects.exists()


def test_it_answers_400_to_a_malformed_payload_and_records_it(world, post_postmark):
    response = post_postmark(b"{not json")
    assert response.status_code == 400
    assert Delivery.objects.get().verdict == Verdict.INVALID


def test_it_answers_503_when_the_database_is_unavailable(world, post_postmark, stored):
    with mock.patch("inbound.services.route_find", side_effect=OperationalError("connection refused")):
        response = post_postmark(postmark_payload(make_message()))
    assert response.status_code == 503
    assert stored() == []


def test_it_records_an_error_in_our_code_instead_of_answering_500(world, post_postmark, stored):
    with mock.patch("inbound.services.ignore_reason", side_effect=RuntimeError("bug")):
        response = post_postmark(postmark_payload(make_message()))
    assert response.status_code == 400
    delivery = Delivery.objects.get()
    assert delivery.verdict == Verdict.INVALID
    assert "RuntimeError" in delivery.reason


def test_it_answers_502_when_the_s3_object_cannot_be_fetched(world, post_sns):
    from botocore.exceptions import ClientError

    notification = json.loads(ses_notification(make_message())["Message"])
    notification["receipt"]["action"] = {"type": "S3", "bucketName": "mail", "objectKey": "missing"}
    from tests.inbound.conftest import sns_envelope

    session = mock.MagicMock()
    session.return_value.client.return_value.get_object.side_effect = ClientError(
        {"Error": {"Code": "NoSuchKey", "Message": "gone"}}, "GetObject"
    )
    with mock.patch("boto3.session.Session", session):
        response = post_sns(sns_envelope(notification))
    assert response.status_code == 502


def test_head_requests_used_by_providers_to_check_the_url_succeed(world, webhook: Client):
    assert webhook.head(POSTMARK_URL).status_code == 200


def test_the_webhook_query_count_does_not_grow_with_the_log_or_the_team(
    world, post_postmark, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.models import AllowedSender

    with CaptureQueriesContext(connection) as first:
        assert (
            post_postmark(postmark_payload(make_message(message_id="<q-1@x.test>"), event_id="q-1")).status_code == 200
        )
    for index in range(30):
        Delivery.objects.create(
            provider="postmark", organization=world.org, verdict=Verdict.ACCEPTED, sender=f"pm{index}@client.test"
        )
        AllowedSender.objects.create(organization=world.org, pattern=f"@client{index}.test")
    with django_assert_num_queries(len(first.captured_queries)):
        assert (
            post_postmark(postmark_payload(make_message(message_id="<q-2@x.test>"), event_id="q-2")).status_code == 200
        )


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")
def test_other_anymail_providers_reach_the_same_receiver(world, webhook, stored, settings):
    settings.INBOUND_ANYMAIL_ESPS = ["sendgrid"]
    raw = make_message(message_id="<sendgrid-1@client.test>")
    response = webhook.post(
        "/anymail/sendgrid/inbound/",
        data={
            "email": raw.decode(),
            "envelope": json.dumps({"to": ["testorg@in.localhost"], "from": "owner@testorg.test"}),
        },
    )
    assert response.status_code == 200
    (email,) = stored()
    assert (email.provider, email.message_id) == ("sendgrid", "<sendgrid-1@client.test>")
    # No provider verdicts: a member's address without them is held, as from any webhook.
    assert email.state == EmailState.HELD


@pytest.mark.parametrize(
    "url",
    [
        "/anymail/sendgrid/inbound/",
        "/anymail/mailgun/inbound/",
        "/anymail/mailgun/inbound_mime/",
        "/anymail/postal/inbound/",
        "/anymail/resend/inbound/",
        "/anymail/postmark/tracking/",
        "/anymail/amazon_ses/tracking/",
        "/anymail/mandrill/",
    ],
)
def test_anymail_urls_of_providers_not_configured_answer_404(world, webhook, url):
    assert webhook.post(url, data=b"{}", content_type="application/json").status_code == 404
    assert not Delivery.objects.exists()


def big_message(size: int) -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "owner@testorg.test"
    message["To"] = "testorg@in.localhost"
    message["Subject"] = "Drawings"
    message["Message-ID"] = "<big@client.test>"
    message.set_content("The drawings are attached.\n")
    message.add_attachment(b"\x89PNG" + b"\x00" * size, maintype="image", subtype="png", filename="plan.png")
    return message.as_bytes()


def test_it_accepts_messages_larger_than_djangos_default_upload_limit(world, post_postmark, stored, settings):
    raw = big_message(3 * 1024 * 1024)
    assert len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = post_postmark(postmark_payload(raw))
    assert response.status_code == 200
    (email,) = stored()
    assert email.size == len(raw)


def test_it_refuses_a_payload_far_above_the_message_limit(world, post_postmark, settings):
    settings.INBOUND_MAX_MESSAGE_BYTES = 10_000
    response = post_postmark(postmark_payload(big_message(2 * 1024 * 1024)))
    assert response.status_code == 413
    assert Delivery.objects.get().reason == "Payload too large"


def test_mail_the_provider_flags_as_spam_is_kept_as_ignored(world, post_sns, stored):
    payload = ses_notification(make_message())
    notification = json.loads(payload["Message"])
    notification["receipt"]["spamVerdict"] = {"status": "FAIL"}
    payload["Message"] = json.dumps(notification)
    assert post_sns(payload).status_code == 200
    (email,) = stored()
    assert (email.state, email.state_reason) == (EmailState.IGNORED, "Flagged as spam by the mail provider")
