"""Sender authentication through the real webhooks: spoofed mail in a member's name is held, never
processed; mail that DMARC, an aligned DKIM signature or an aligned SPF pass vouches for is not.

Payloads are the corpus' real Postmark and SES bodies with their From, envelope and verdicts
changed (the attack: a Postmark payload with `Received-SPF: fail` and a DMARC failure, From a
member, asking for a payment to a new account).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.urls import reverse
from django_tenants.utils import schema_context

from events.models import Email, EmailState, Event, HoldCause
from inbound.feed import FeedSummary, message_feed
from inbound.models import Authentication, Delivery, Verdict
from organizations.models import AllowedSender, Organization, SenderPolicy
from tests.conftest import CORPORA
from tests.inbound.conftest import make_message, postmark_payload
from tests.inbound.test_corpora import S3_MESSAGE, FakeS3Body, fake_boto  # noqa: F401 - a fixture

PAYMENT = "Please pay the $48,000 due on Friday to our new account, IBAN GB33BUKB20201555555555."


def _corpus(name: str) -> dict[str, Any]:
    return json.loads((CORPORA / name).read_bytes())


def spoofed_postmark(
    *,
    sender: str = "owner@testorg.test",
    return_path: str = "billing@evil.test",
    spf: str = "Fail (sender SPF not authorized)",
    spam_tests: str = "SPF_FAIL",
    authentication_results: str | None = "mx.evil.test; spf=pass smtp.mailfrom=testorg.test; dmarc=pass",
) -> dict[str, Any]:
    """The corpus' real Postmark payload (Postmark's own headers on top, the message rebuilt
    from its fields by anymail), sent in a member's name from someone else's server."""
    payload = _corpus("postmark/jjaffeux_inbound.json")
    payload["From"] = sender
    payload["FromFull"] = {"Email": sender, "Name": "Owner", "MailboxHash": ""}
    payload["OriginalRecipient"] = "testorg@in.localhost"
    payload["ToFull"] = [{"Email": "testorg@in.localhost", "Name": "", "MailboxHash": ""}]
    payload["To"] = "testorg@in.localhost"
    payload["CcFull"], payload["Cc"] = [], ""
    payload["Subject"] = "New bank details for the Harbour invoice"
    payload["TextBody"] = payload["StrippedTextReply"] = PAYMENT
    payload["HtmlBody"] = f"<p>{PAYMENT}</p>"
    payload["MessageID"] = "spoof-1"
    headers = [{"Name": "Return-Path", "Value": f"<{return_path}>"}]
    for header in payload["Headers"]:
        if header["Name"] == "Received-SPF":
            if not spf:
                continue
            header = {**header, "Value": re.sub(r"^\S+ \([^)]*\)", spf, header["Value"])}
            header["Value"] = header["Value"].replace(
                "envelope-from=myUser@theirDomain.com", f"envelope-from={return_path}"
            )
        if header["Name"] == "X-Spam-Tests":
            if not spam_tests:
                continue
            header = {**header, "Value": spam_tests}
        if header["Name"] == "Message-ID":
            header = {**header, "Value": "<spoof-1@evil.test>"}
        headers.append(header)
    if authentication_results:
        # Written by the sender's own server: a stranger's authserv-id is never read.
        headers.append({"Name": "Authentication-Results", "Value": authentication_results})
    payload["Headers"] = headers
    return payload


def ses_variant(
    *,
    sender: str = "Owner <owner@testorg.test>",
    source: str = "owner@testorg.test",
    spf: str = "PASS",
    dkim: str = "PASS",
    dmarc: str = "PASS",
    dkim_domain: str | None = "testorg.test",
    text: str = PAYMENT,
) -> dict[str, Any]:
    """The corpus' real SES SNS-action notification, its message from `sender` with SES's
    verdicts (receipt fields and SES's own Authentication-Results) as given."""
    envelope = _corpus("ses/aws-actionmailbox-ses_inbound_email.json")
    notification = json.loads(envelope["Message"])
    words = {"PASS": "pass", "FAIL": "fail", "GRAY": "none"}
    from_domain = sender.rpartition("@")[2].rstrip(">")
    stamped = (
        f"Authentication-Results: amazonses.com;\r\n spf={words[spf]} (spfCheck: domain of "
        f"{source.rpartition('@')[2]}) client-ip=209.85.167.180; envelope-from={source}; helo=mail.example.net;\r\n"
        f" dkim={words[dkim]}{f' header.i=@{dkim_domain}' if dkim_domain else ''};\r\n"
        f" dmarc={words[dmarc]} header.from={from_domain};\r\n"
    )
    content = notification["content"]
    content = re.sub(r"Authentication-Results: amazonses\.com;\r\n(?: .*\r\n)+", lambda _: stamped, content)
    content = content.replace("From: Email Sender <sender@example.com>", f"From: {sender}")
    content = content.replace("test message", text)
    notification["content"] = content
    notification["mail"]["source"] = source
    notification["receipt"]["recipients"] = ["testorg@in.localhost"]
    for key, status in (("spfVerdict", spf), ("dkimVerdict", dkim), ("dmarcVerdict", dmarc)):
        notification["receipt"][key] = {"status": status}
    if dmarc == "FAIL":
        notification["receipt"]["dmarcPolicy"] = "reject"
    envelope["Message"] = json.dumps(notification)
    return envelope


def the_email(org: Organization) -> Email:
    with schema_context(org.schema_name):
        (email,) = Email.objects.all()
        return email


def events_on_timelines(org: Organization) -> int:
    with schema_context(org.schema_name):
        return Event.objects.count()


# --- spoofed mail is held -------------------------------------------------------------------


def test_the_spoofed_postmark_payment_request_is_held_and_never_processed(world, post_postmark, broker_tasks):
    response = post_postmark(spoofed_postmark())
    assert response.status_code == 200  # held mail is stored: Postmark must not retry
    email = the_email(world.org)
    assert (email.state, email.hold_cause) == (EmailState.HELD, HoldCause.SENDER_NOT_AUTHENTICATED)
    assert email.state_reason.startswith("Sender not authenticated: From says owner@testorg.test, but ")
    assert "no SPF or DKIM pass aligned with From for testorg.test" in email.state_reason
    assert "SPF fail evil.test" in email.state_reason
    assert broker_tasks() == []  # never queued: nothing reaches a timeline
    assert events_on_timelines(world.org) == 0
    delivery = Delivery.objects.get()
    assert (delivery.verdict, delivery.authentication) == (Verdict.HELD, Authentication.FAIL)
    assert (delivery.cause, delivery.spf, delivery.dkim, delivery.dmarc) == (
        HoldCause.SENDER_NOT_AUTHENTICATED,
        "fail",
        "",
        "",
    )
    assert delivery.authentication_detail.startswith("no SPF or DKIM pass aligned with From for testorg.test")
    # The sender's own Authentication-Results (dmarc=pass) was not read.
    assert "DMARC" not in delivery.authentication_detail


def test_a_spoofed_postmark_raw_email_is_held_too(world, post_postmark):
    raw = make_message(body=PAYMENT + "\n")
    payload = postmark_payload(raw, return_path="billing@evil.test", spf="Fail", spam_tests="SPF_FAIL")
    assert post_postmark(payload).status_code == 200
    assert the_email(world.org).state == EmailState.HELD


def test_a_spoofed_ses_message_failing_dmarc_is_held(world, post_sns, broker_tasks):
    response = post_sns(ses_variant(source="billing@evil.test", dkim="GRAY", dkim_domain=None, dmarc="FAIL"))
    assert response.status_code == 200
    email = the_email(world.org)
    assert email.state == EmailState.HELD
    assert "DMARC fail for testorg.test" in email.state_reason
    assert broker_tasks() == []
    assert Delivery.objects.get().authentication == Authentication.FAIL


def test_the_real_dmarc_failure_of_the_corpus_in_a_members_name_is_held(world, post_sns, fake_boto):  # noqa: F811
    envelope = _corpus("ses/aws-actionmailbox-ses_inbound_email_s3.json")
    notification = json.loads(envelope["Message"])
    notification["receipt"]["recipients"] = ["testorg@in.localhost"]
    envelope["Message"] = json.dumps(notification)
    fake_boto.return_value.client.return_value.get_object.side_effect = lambda **kwargs: {
        "Body": FakeS3Body(S3_MESSAGE.read_bytes().replace(b"bob@example.com", b"owner@testorg.test"))
    }
    assert post_sns(envelope).status_code == 200
    email = the_email(world.org)
    assert (email.state, email.from_address) == (EmailState.HELD, "owner@testorg.test")
    assert "DMARC fail" in email.state_reason


def test_a_spf_pass_for_the_attackers_own_domain_proves_nothing(world, post_sns):
    # The domain publishes no DMARC record (GRAY); SPF passes, but for evil.test.
    post_sns(ses_variant(source="billing@evil.test", dkim="GRAY", dkim_domain=None, dmarc="GRAY"))
    assert the_email(world.org).state == EmailState.HELD


def test_an_allowed_senders_address_is_held_when_not_authenticated(world, post_sns):
    world.org.sender_policy = SenderPolicy.ALLOWLIST
    world.org.save()
    AllowedSender.objects.create(organization=world.org, pattern="@client.test")
    post_sns(
        ses_variant(
            sender="pm@client.test", source="x@evil.test", dkim="FAIL", dkim_domain=None, dmarc="FAIL", spf="FAIL"
        )
    )
    assert the_email(world.org).state == EmailState.HELD


def test_under_the_open_policy_a_members_address_is_still_held_but_a_strangers_mail_is_not(world, post_sns, stored):
    world.org.sender_policy = SenderPolicy.ANYONE
    world.org.save()
    post_sns(ses_variant(source="billing@evil.test", dkim="GRAY", dkim_domain=None, dmarc="FAIL"))
    stranger = ses_variant(
        sender="Dana <dana@client.test>", source="dana@client.test", dkim="GRAY", dkim_domain=None, dmarc="FAIL"
    )
    notification = json.loads(stranger["Message"])
    notification["mail"]["messageId"] = "ses-stranger"
    notification["content"] = notification["content"].replace("Message-ID: <CA+X1", "Message-ID: <stranger-CA+X1")
    stranger["Message"] = json.dumps(notification)
    post_sns(stranger)
    held, accepted = stored()
    assert (held.from_address, held.state) == ("owner@testorg.test", EmailState.HELD)
    # A stranger is trusted as no one: its mail is what anyone may send, failing DMARC or not.
    assert (accepted.from_address, accepted.state) == ("dana@client.test", EmailState.QUEUED)
    assert Delivery.objects.get(email_code=accepted.code).authentication == Authentication.FAIL


def test_an_unauthenticated_auto_reply_in_a_members_name_leaves_only_the_delivery_row(world, post_postmark, stored):
    raw = make_message(headers={"Auto-Submitted": "auto-replied"})
    post_postmark(postmark_payload(raw, return_path="x@evil.test", spf="Fail", spam_tests="SPF_FAIL"))
    assert stored() == []
    delivery = Delivery.objects.get()
    assert delivery.verdict == Verdict.IGNORED
    assert delivery.reason == "Auto-submitted mail (auto-replied); sender not authenticated"


def test_a_refused_strangers_delivery_records_the_verdict_too(world, post_sns):
    post_sns(ses_variant(sender="x@elsewhere.test", source="x@elsewhere.test", dkim_domain="elsewhere.test"))
    delivery = Delivery.objects.get()
    assert (delivery.verdict, delivery.authentication) == (Verdict.REJECTED, Authentication.PASS)


# --- authenticated mail is trusted ----------------------------------------------------------


def test_an_aligned_dkim_signature_is_enough_when_spf_fails(world, post_sns, broker_tasks):
    # Sent through a mailing service: SPF for its bounce domain, DKIM by the member's domain.
    post_sns(ses_variant(source="bounce@mailer.example", spf="PASS", dmarc="GRAY", dkim_domain="mail.testorg.test"))
    email = the_email(world.org)
    assert email.state == EmailState.QUEUED
    assert len(broker_tasks()) == 1
    with schema_context(world.org.schema_name):
        (log,) = email.logs.all()
    assert log.message.startswith("Received; sender authenticated: DKIM pass aligned with From for testorg.test")


def test_an_aligned_spf_pass_alone_is_enough_without_a_dmarc_record(world, post_sns):
    post_sns(ses_variant(spf="PASS", dkim="GRAY", dkim_domain=None, dmarc="GRAY"))
    assert the_email(world.org).state == EmailState.QUEUED
    assert Delivery.objects.get().authentication_detail.startswith("SPF pass aligned with From for testorg.test")


def test_a_dmarc_pass_is_enough(world, post_sns):
    post_sns(ses_variant(source="bounce@mailer.example", dkim_domain=None, dmarc="PASS"))
    assert the_email(world.org).state == EmailState.QUEUED


def test_postmark_mail_forwarded_by_the_member_passes_by_its_author_signature(world, post_postmark):
    # Forwarding breaks SPF; SpamAssassin still finds the author domain's valid signature.
    payload = spoofed_postmark(spam_tests="DKIM_SIGNED,DKIM_VALID,DKIM_VALID_AU,SPF_FAIL", authentication_results=None)
    assert post_postmark(payload).status_code == 200
    assert the_email(world.org).state == EmailState.QUEUED


def test_a_configured_upstream_vouches_for_forwarded_mail(world, post_postmark, settings):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.google.com"]
    payload = spoofed_postmark(
        spam_tests="SPF_FAIL",
        authentication_results="mx.google.com; dkim=pass header.d=testorg.test; spf=pass "
        "smtp.mailfrom=owner@testorg.test; dmarc=pass (p=REJECT) header.from=testorg.test",
    )
    post_postmark(payload)
    email = the_email(world.org)
    assert email.state == EmailState.QUEUED
    assert Delivery.objects.get().authentication_detail.startswith("DMARC pass for testorg.test")


# --- no verdict --------------------------------------------------------------------------------


def test_live_mail_without_any_verdict_is_held(world, post_postmark):
    post_postmark(spoofed_postmark(spf="", spam_tests="", authentication_results=None))
    email = the_email(world.org)
    assert email.state == EmailState.HELD
    assert "no SPF, DKIM or DMARC result from the provider" in email.state_reason
    assert Delivery.objects.get().authentication == Authentication.UNKNOWN


def test_a_backfill_without_a_verdict_is_trusted_by_default(world):
    summary = FeedSummary()
    assert message_feed(organization=world.org, raw=make_message(), provider="eml", summary=summary) == "stored"
    email = the_email(world.org)
    assert email.state == EmailState.QUEUED
    delivery = Delivery.objects.get()
    assert (delivery.authentication, delivery.verdict) == (Authentication.UNKNOWN, Verdict.ACCEPTED)
    with schema_context(world.org.schema_name):
        assert email.logs.get().message.startswith("Received; sender unverified: no SPF, DKIM or DMARC result")


def test_backfills_can_be_checked_too(world, settings):
    settings.INBOUND_SENDER_AUTH_UNKNOWN_TRUSTED = []
    message_feed(organization=world.org, raw=make_message(), provider="eml", summary=FeedSummary())
    assert the_email(world.org).state == EmailState.HELD


# --- where people see it -----------------------------------------------------------------------


def test_the_email_page_and_the_inbox_show_the_verdict(world, post_postmark, client_as):
    post_postmark(spoofed_postmark())
    email = the_email(world.org)
    client = client_as(world.admin)
    page = client.get(reverse("events:email", args=[email.code])).content.decode()
    assert "Sender not authenticated: From says owner@testorg.test" in page
    inbox = client.get("/inbox/").content.decode()
    assert "Sender not authenticated" in inbox


def test_the_refused_mail_list_shows_the_sender_check(world, post_sns, client_as):
    post_sns(ses_variant(sender="x@elsewhere.test", source="x@elsewhere.test", dmarc="FAIL", dkim_domain=None))
    inbox = client_as(world.admin).get("/inbox/").content.decode()
    assert "Sender check" in inbox
    assert "Not authenticated" in inbox
