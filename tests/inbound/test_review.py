"""Held and refused mail an admin acts on, through the real webhooks and the inbox's forms: spoofed
mail held with its cause, released (processed once) or deleted; a domain trusted without
authentication (recorded with who); a refused sender allowed from its row and its kept message
brought in (processed once); kept messages purged after their time; who may do any of it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Email, EmailState, HoldCause
from events.processing import email_process
from inbound.kept import kept_messages_purge
from inbound.models import Delivery, RefusalCause, Verdict
from inbound.selectors import attention_count
from organizations.models import AllowedSender, SenderPolicy, TrustedDomain
from tests.inbound.test_sender_authentication import ses_variant, spoofed_postmark

RELEASE, DELETE, TRUST = "events:held_release", "events:held_delete", "events:held_trust_domain"
ALLOW, OFFER, BRING_IN = "events:refused_allow", "events:refused_offer", "events:refused_bring_in"


def emails(org: Any) -> list[Email]:
    with schema_context(org.schema_name):
        return list(Email.objects.order_by("id"))


def a_stranger(*, sender: str = "Dana <dana@client.test>", source: str = "dana@client.test", n: int = 1) -> Any:
    """A client's authenticated reply-all, from an address the workspace does not know."""
    payload = ses_variant(sender=sender, source=source, dkim_domain="client.test", dmarc="PASS")
    notification = json.loads(payload["Message"])
    notification["mail"]["messageId"] = f"ses-stranger-{n}"
    notification["content"] = notification["content"].replace("Message-ID: <CA+X1", f"Message-ID: <s{n}-CA+X1")
    payload["Message"] = json.dumps(notification)
    return payload


def kept_refusal(world: Any, post_sns: Any) -> Delivery:
    assert post_sns(a_stranger()).status_code == 200
    delivery = Delivery.objects.get()
    assert (delivery.verdict, delivery.cause) == (Verdict.REJECTED, RefusalCause.SENDER_POLICY)
    assert delivery.kept
    return delivery


# --- held mail ----------------------------------------------------------------------------------


def test_spoofed_mail_waits_in_the_admins_review_list_with_its_cause_and_verdicts(world, post_postmark, client_as):
    post_postmark(spoofed_postmark())
    (email,) = emails(world.org)
    assert (email.state, email.hold_cause) == (EmailState.HELD, HoldCause.SENDER_NOT_AUTHENTICATED)
    page = client_as(world.admin).get(reverse("events:inbox")).content.decode()
    assert 'id="review"' in page
    assert f'id="held-{email.code}"' in page
    assert "SPF fail · DKIM — · DMARC —" in page
    assert "Trust testorg.test" in page
    assert 'class="nav-attention"' in page


def test_members_and_viewers_see_no_review_list_and_no_notice(world, post_postmark, client_as):
    post_postmark(spoofed_postmark())
    for user in (world.member, world.viewer):
        page = client_as(user).get(reverse("events:inbox")).content.decode()
        assert 'id="review"' not in page
        assert 'class="nav-attention"' not in page


def test_the_inbox_filters_held_mail_by_cause(world, post_postmark, client_as):
    post_postmark(spoofed_postmark())
    client = client_as(world.admin)
    listed = client.get(reverse("events:inbox"), {"state": "held", "cause": HoldCause.SENDER_NOT_AUTHENTICATED})
    other = client.get(reverse("events:inbox"), {"state": "held", "cause": HoldCause.MAIL_LOOP})
    assert 'id="email-' in listed.content.decode()
    assert 'id="email-' not in other.content.decode()


def test_a_released_email_is_processed_once_as_the_members_mail(
    world, post_postmark, client_as, broker_tasks, django_capture_on_commit_callbacks
):
    post_postmark(spoofed_postmark())
    (email,) = emails(world.org)
    client = client_as(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(RELEASE, args=[email.code]), follow=True)
        again = client.post(reverse(RELEASE, args=[email.code]), follow=True)
    assert "Released" in response.content.decode()
    assert "no longer held" in again.content.decode()
    assert [func for func, _ in broker_tasks()] == ["events.tasks.email_process_task"]
    (released,) = emails(world.org)
    assert (released.state, released.hold_cause) == (EmailState.QUEUED, HoldCause.NONE)
    with schema_context(world.org.schema_name):
        assert released.logs.filter(message=f"Released by {world.admin.email} (Sender not authenticated)").exists()
    first = email_process(schema_name=world.org.schema_name, email_id=email.pk)
    second = email_process(schema_name=world.org.schema_name, email_id=email.pk)
    assert (first.state, second.state) == (EmailState.PROCESSED, "skipped")


def test_a_deleted_held_email_is_gone_with_its_file_and_its_delivery_row_stays(world, post_postmark, client_as):
    post_postmark(spoofed_postmark())
    (email,) = emails(world.org)
    client_as(world.admin).post(reverse(DELETE, args=[email.code]))
    assert emails(world.org) == []
    assert Delivery.objects.get().verdict == Verdict.HELD


def test_a_trusted_domain_lets_the_next_unauthenticated_message_in_and_records_who(world, post_postmark, client_as):
    post_postmark(spoofed_postmark())
    (held,) = emails(world.org)
    client = client_as(world.admin)
    client.post(reverse(TRUST, args=[held.code]))
    trusted = TrustedDomain.objects.get(organization=world.org)
    assert (trusted.domain, trusted.created_by) == ("testorg.test", world.admin)
    settings_page = client.get(reverse("workspace:settings")).content.decode()
    assert "testorg.test" in settings_page and world.admin.email in settings_page

    payload = spoofed_postmark()
    payload["MessageID"] = "spoof-2"
    payload["Headers"] = [
        h if h["Name"] != "Message-ID" else {**h, "Value": "<spoof-2@x.test>"} for h in payload["Headers"]
    ]
    post_postmark(payload)
    held_still, accepted = emails(world.org)
    assert held_still.state == EmailState.HELD  # trusting a domain releases nothing by itself
    assert accepted.state == EmailState.QUEUED
    with schema_context(world.org.schema_name):
        (log,) = accepted.logs.all()
    assert "testorg.test is trusted without authentication" in log.message
    assert f"by {world.admin.email}" in log.message

    client.post(reverse("workspace:trusted_domain_delete", args=[trusted.pk]))
    assert not TrustedDomain.objects.filter(organization=world.org).exists()


# --- refused mail -------------------------------------------------------------------------------


def test_a_refused_senders_message_is_kept_and_offered_to_admins(world, post_sns, client_as):
    delivery = kept_refusal(world, post_sns)
    page = client_as(world.admin).get(reverse("events:inbox")).content.decode()
    assert f'id="kept-{delivery.pk}"' in page
    assert "Allow this sender" in page and "Allow all of @client.test" in page


def test_allow_this_sender_then_bring_it_in_processes_it_once(
    world, post_sns, client_as, django_capture_on_commit_callbacks
):
    delivery = kept_refusal(world, post_sns)
    client = client_as(world.admin)
    response = client.post(reverse(ALLOW, args=[delivery.pk]), {"scope": "sender"})
    assert response.status_code == 302 and response["Location"] == reverse(OFFER, args=[delivery.pk])
    world.org.refresh_from_db()
    assert world.org.sender_policy == SenderPolicy.ALLOWLIST  # members-only read no allow-list
    assert AllowedSender.objects.filter(organization=world.org, pattern="dana@client.test").exists()
    assert "Bring it in" in client.get(response["Location"]).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        brought = client.post(reverse(BRING_IN, args=[delivery.pk]))
        again = client.post(reverse(BRING_IN, args=[delivery.pk]), follow=True)
    (email,) = emails(world.org)
    assert brought["Location"] == reverse("events:email", args=[email.code])
    assert "no longer kept" in again.content.decode()
    assert (email.from_address, email.state) == ("dana@client.test", EmailState.QUEUED)
    delivery.refresh_from_db()
    assert (delivery.brought_in_by, delivery.email_code, delivery.kept.name) == (world.admin, email.code, "")
    with schema_context(world.org.schema_name):
        assert email.logs.filter(message=f"Brought in from refused mail by {world.admin.email}").exists()
    results = [email_process(schema_name=world.org.schema_name, email_id=email.pk) for _ in range(2)]
    assert [r.state for r in results] == [EmailState.PROCESSED, "skipped"]


def test_allow_this_domain_lets_the_whole_domain_send(world, post_sns, client_as):
    delivery = kept_refusal(world, post_sns)
    client_as(world.admin).post(reverse(ALLOW, args=[delivery.pk]), {"scope": "domain"})
    assert AllowedSender.objects.filter(organization=world.org, pattern="@client.test").exists()
    post_sns(a_stranger(sender="Kim <kim@client.test>", source="kim@client.test", n=2))
    (email,) = emails(world.org)
    assert email.from_address == "kim@client.test"


def test_bringing_in_before_allowing_is_refused_with_the_reason(world, post_sns, client_as):
    delivery = kept_refusal(world, post_sns)
    response = client_as(world.admin).post(reverse(BRING_IN, args=[delivery.pk]), follow=True)
    assert "may not send yet" in response.content.decode()
    assert emails(world.org) == []


def test_kept_messages_are_purged_after_the_retention(world, post_sns, settings):
    settings.INBOUND_REFUSED_KEEP_DAYS = 14
    delivery = kept_refusal(world, post_sns)
    path = delivery.kept.name
    assert kept_messages_purge(now=timezone.now() + dt.timedelta(days=13)) == 0
    assert kept_messages_purge(now=timezone.now() + dt.timedelta(days=15)) == 1
    delivery.refresh_from_db()
    assert delivery.kept.name == "" and path
    assert delivery.verdict == Verdict.REJECTED  # the log row stays


def test_an_organization_keeps_at_most_the_configured_number(world, post_sns, settings):
    settings.INBOUND_REFUSED_KEEP_MAX = 1
    post_sns(a_stranger(n=1))
    post_sns(a_stranger(n=2))
    assert [bool(d.kept) for d in Delivery.objects.order_by("pk")] == [True, False]


# --- the notice ---------------------------------------------------------------------------------


def test_the_admins_notice_counts_held_and_refused_mail_in_one_query(
    world, post_postmark, post_sns, django_assert_num_queries
):
    post_postmark(spoofed_postmark())
    post_sns(a_stranger())
    with schema_context(world.org.schema_name):
        Email.objects.exists()  # the search path is set
        with django_assert_num_queries(1):
            attention = attention_count(world.org)
    assert (attention.held, attention.refused, attention.total) == (1, 1, 2)


def test_the_inbox_costs_the_same_queries_with_1_and_31_messages_waiting(
    world, post_postmark, post_sns, client_as, django_assert_num_queries, django_assert_max_num_queries
):
    client = client_as(world.admin)
    client.get(reverse("events:inbox"))  # sessions and caches warm
    post_postmark(spoofed_postmark())
    with django_assert_max_num_queries(40) as one:
        assert 'id="review"' in client.get(reverse("events:inbox")).content.decode()
    # Counted now: the capture is a slice of the connection's query log, which the 30 deliveries
    # below would move on.
    queries = len(one.captured_queries)
    for n in range(30):
        post_sns(a_stranger(sender=f"S <s{n}@client.test>", source=f"s{n}@client.test", n=n + 10))
    with django_assert_num_queries(queries):
        page = client.get(reverse("events:inbox")).content.decode()
    assert page.count('id="kept-') == 20 and 'class="nav-attention"' in page


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_can_neither_release_nor_allow(world, post_postmark, post_sns, client_as, role):
    post_postmark(spoofed_postmark())
    delivery = kept_refusal_second(post_sns)
    (email,) = emails(world.org)
    client = client_as(world.user(role))
    for name, arg in ((RELEASE, email.code), (DELETE, email.code), (TRUST, email.code)):
        assert client.post(reverse(name, args=[arg])).status_code == 403
    for name in (ALLOW, BRING_IN):
        assert client.post(reverse(name, args=[delivery.pk])).status_code == 403
    assert client.get(reverse(OFFER, args=[delivery.pk])).status_code == 403
    assert emails(world.org)[0].state == EmailState.HELD
    assert not AllowedSender.objects.exists()


def test_another_organizations_admin_cannot_reach_them(world, post_postmark, post_sns, client_as, other_org):
    post_postmark(spoofed_postmark())
    delivery = kept_refusal_second(post_sns)
    (email,) = emails(world.org)
    outsider = client_as(world.outsider, host=other_org.host)
    assert outsider.post(reverse(RELEASE, args=[email.code])).status_code == 404
    assert outsider.post(reverse(ALLOW, args=[delivery.pk]), {"scope": "sender"}).status_code == 404
    assert outsider.post(reverse(BRING_IN, args=[delivery.pk])).status_code == 404
    assert outsider.get(reverse(OFFER, args=[delivery.pk])).status_code == 404
    assert emails(world.org)[0].state == EmailState.HELD
    assert not AllowedSender.objects.exists()
    assert Delivery.objects.get(pk=delivery.pk).brought_in_at is None


def kept_refusal_second(post_sns: Any) -> Delivery:
    post_sns(a_stranger())
    return Delivery.objects.get(cause=RefusalCause.SENDER_POLICY)
