from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events.models import EmailState
from inbound.models import Delivery, Verdict
from tests.factories import EmailFactory

INBOX = "/inbox/"


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_member_sees_the_inbox(world, client_as, role):
    EmailFactory(subject="Harbour refit update", state=EmailState.PROCESSED)
    response = client_as(world.user(role)).get(INBOX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Harbour refit update" in body
    assert "Processed" in body


def test_an_outsider_gets_404_and_an_anonymous_visitor_is_sent_to_sign_in(world, client_as, workspace_client):
    assert client_as(world.outsider).get(INBOX).status_code == 404
    response = workspace_client.get(INBOX)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_each_row_links_to_the_email_and_its_project(world, client_as):
    email = EmailFactory()
    body = client_as(world.member).get(INBOX).content.decode()
    assert reverse("events:email", args=[email.code]) in body
    assert reverse("projects:timeline", args=[email.project.code]) in body


def test_it_filters_by_state(world, client_as):
    EmailFactory(subject="Went fine", state=EmailState.PROCESSED)
    EmailFactory(subject="Went wrong", state=EmailState.FAILED, state_reason="Extraction failed: refused")
    body = client_as(world.member).get(INBOX, {"state": "failed"}).content.decode()
    assert "Went wrong" in body and "Went fine" not in body
    assert "Extraction failed: refused" in body


def test_it_polls_only_while_something_is_pending(world, client_as):
    member = client_as(world.member)
    EmailFactory(state=EmailState.PROCESSED)
    assert 'hx-trigger="every' not in member.get(INBOX).content.decode()
    EmailFactory(state=EmailState.QUEUED, project=None)
    assert 'hx-trigger="every' in member.get(INBOX).content.decode()


def test_a_poll_gets_only_the_rows(world, client_as):
    EmailFactory(subject="Queued one", state=EmailState.QUEUED, project=None)
    response = client_as(world.member).get(INBOX, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<tbody id="inbox-rows"')
    assert "Queued one" in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_admins_see_refused_deliveries_of_their_organization_only(world, client_as, other_org):
    Delivery.objects.create(
        provider="postmark", organization=world.org, verdict=Verdict.REJECTED, sender="stranger@elsewhere.test",
        reason="Sender not allowed by the organization's sender policy",
    )  # fmt: skip
    Delivery.objects.create(
        provider="postmark", organization=other_org, verdict=Verdict.REJECTED, sender="spy@other.test", reason="x"
    )
    admin_page = client_as(world.admin).get(INBOX).content.decode()
    assert "stranger@elsewhere.test" in admin_page
    assert "Sender not allowed" in admin_page
    assert "spy@other.test" not in admin_page
    assert "stranger@elsewhere.test" not in client_as(world.member).get(INBOX).content.decode()


def _deliveries(world, n):
    for i in range(n):
        Delivery.objects.create(provider="postmark", organization=world.org, verdict=Verdict.REJECTED, reason=f"r{i}")


def test_the_inbox_query_count_does_not_grow_with_the_mail(world, client_as, django_assert_num_queries):
    admin: Client = client_as(world.admin)
    EmailFactory(state=EmailState.PROCESSED)
    _deliveries(world, 1)
    admin.get(INBOX)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        admin.get(INBOX)
    EmailFactory.create_batch(60, state=EmailState.FAILED)
    EmailFactory.create_batch(5, state=EmailState.QUEUED, project=None)
    _deliveries(world, 30)
    with django_assert_num_queries(len(one.captured_queries)):
        response = admin.get(INBOX)
    assert len(response.context["emails"]) == 50
    assert len(response.context["refused"]) == 20
