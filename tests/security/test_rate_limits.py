"""Rate limits: sign-in and password reset (allauth), invitation, hand-off and reset links
(wrong ones per IP, across hosts; a valid one always passes) and the inbound webhooks (per
organization)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import schema_context

from events.models import Email
from inbound.models import Delivery
from organizations.models import Organization, SenderPolicy
from tests.conftest import make_user
from tests.inbound.conftest import AUTH, POSTMARK_URL, make_message, postmark_payload

PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture(autouse=True)
def fresh_counters(db):
    cache.clear()
    yield
    cache.clear()


# Sign-in: tests/accounts/test_sign_in_limits.py.


def test_password_reset_requests_are_limited_per_address(world, public):
    make_user("reset@testorg.test", password="a-long-and-unusual-passphrase")
    client = Client(HTTP_HOST="localhost")
    statuses = [client.post("/accounts/password/reset/", {"email": "reset@testorg.test"}).status_code for _ in range(6)]
    assert statuses[:5] == [302] * 5
    assert statuses[5] == 429


@pytest.mark.parametrize("prefix", ["invite", "handoff"])
def test_failed_token_links_are_limited_per_client_across_hosts(prefix, world, other_org, settings):
    settings.TOKEN_RATE_LIMIT = 3
    hosts = [world.org.host, other_org.host]
    statuses = [Client(HTTP_HOST=hosts[i % 2]).get(f"/{prefix}/guess-{i}/").status_code for i in range(4)]
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
    # Another client (IP) is not affected.
    other = Client(HTTP_HOST=world.org.host, REMOTE_ADDR="10.0.0.9").get(f"/{prefix}/guess/")
    assert other.status_code != 429


def test_a_real_link_is_not_counted(world, public, settings):
    from organizations.services import invitation_create

    settings.TOKEN_RATE_LIMIT = 1
    _, token = invitation_create(
        organization=world.org, email="new@testorg.test", role="member", invited_by=None, send=False
    )
    client = Client(HTTP_HOST=world.org.host)
    assert [client.get(f"/invite/{token}/").status_code for _ in range(3)] == [200, 200, 200]
    assert client.get("/invite/wrong/").status_code == 404
    assert client.get("/invite/wrong-again/").status_code == 429


def test_a_valid_invitation_is_honoured_after_many_wrong_ones_from_the_same_ip(world, public, settings):
    from organizations.services import invitation_create

    _, token = invitation_create(
        organization=world.org, email="new@testorg.test", role="member", invited_by=None, send=False
    )
    client = Client(HTTP_HOST=world.org.host)
    wrong = [client.get(f"/invite/guess-{n}/").status_code for n in range(settings.TOKEN_RATE_LIMIT + 5)]
    assert wrong[-1] == 429
    assert client.get(f"/invite/{token}/").status_code == 200
    response = client.post(
        f"/invite/{token}/",
        {"first_name": "New", "last_name": "Person", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert world.org.memberships.filter(user__email="new@testorg.test").exists()


def test_a_valid_handoff_is_honoured_after_many_wrong_ones_from_the_same_ip(world, settings):
    from organizations.handoff import handoff_token_create

    client = Client(HTTP_HOST=world.org.host)
    wrong = [client.get(f"/handoff/guess-{n}/").status_code for n in range(settings.TOKEN_RATE_LIMIT + 5)]
    assert wrong[-1] == 429
    token = handoff_token_create(user=world.member, organization=world.org)
    response = client.get(f"/handoff/{token}/")
    assert response.status_code == 302
    assert client.get("/projects/").status_code == 200


def test_a_valid_reset_link_is_honoured_after_many_wrong_ones_from_the_same_ip(world, public, settings):
    from django.core import mail

    make_user("forgetful@testorg.test", password="an-old-and-forgotten-phrase")
    client = Client(HTTP_HOST="localhost")
    assert client.post("/accounts/password/reset/", {"email": "forgetful@testorg.test"}).status_code == 302
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/accounts/password/reset/key/" in line)
    path = link[link.index("/accounts/") :].strip()
    wrong = [
        client.get(f"/accounts/password/reset/key/1-guess{n}/").status_code
        for n in range(settings.TOKEN_RATE_LIMIT + 5)
    ]
    assert wrong[0] == 200 and wrong[-1] == 429
    response = client.get(path)
    assert response.status_code == 302
    response = client.post(response["Location"], {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert client.post("/accounts/login/", {"login": "forgetful@testorg.test", "password": PASSWORD}).status_code == 302


def test_the_limited_answer_says_when_to_retry(world, settings):
    settings.TOKEN_RATE_LIMIT = 1
    client = Client(HTTP_HOST=world.org.host)
    client.get("/invite/a/")
    response = client.get("/invite/b/")
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.TOKEN_RATE_LIMIT_WINDOW)


@pytest.fixture
def open_orgs(org, other_org, settings):
    Organization.objects.filter(pk__in=[org.pk, other_org.pk]).update(sender_policy=SenderPolicy.ANYONE)
    settings.INBOUND_RATE_LIMIT = 2
    return org, other_org


def post_to(slug: str, n: int) -> int:
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=AUTH)
    raw = make_message(to=f"{slug}@in.localhost", message_id=f"<rl-{slug}-{n}@client.test>")
    payload = postmark_payload(raw, event_id=f"rl-{slug}-{n}", recipient=f"{slug}@in.localhost")
    import json

    return client.post(POSTMARK_URL, data=json.dumps(payload), content_type="application/json").status_code


def test_webhooks_are_limited_per_organization(open_orgs):
    org, other_org = open_orgs
    assert [post_to(org.slug, n) for n in range(3)] == [200, 200, 429]
    # The limited message was not stored: Postmark delivers it again later.
    assert Delivery.objects.filter(organization=org).count() == 2
    with schema_context(org.schema_name):
        assert Email.objects.count() == 2
    # Another organization's mail still flows.
    assert post_to(other_org.slug, 0) == 200


def test_ses_is_told_to_retry_with_a_server_status(open_orgs, settings):
    import json

    from tests.inbound.conftest import SES_URL, ses_notification

    settings.INBOUND_RATE_LIMIT = 1
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=AUTH)
    statuses = []
    for n in range(2):
        payload = ses_notification(make_message(message_id=f"<ses-rl-{n}@x>"), event_id=f"ses-rl-{n}")
        payload["MessageId"] = f"sns-rl-{n}"
        statuses.append(
            client.post(
                SES_URL,
                data=json.dumps(payload),
                content_type="text/plain; charset=utf-8",
                HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
                HTTP_X_AMZ_SNS_MESSAGE_ID=payload["MessageId"],
            ).status_code
        )
    assert statuses == [200, 503]


def test_a_zero_limit_turns_the_webhook_limit_off(open_orgs, settings):
    org, _ = open_orgs
    settings.INBOUND_RATE_LIMIT = 0
    assert {post_to(org.slug, n) for n in range(4)} == {200}
