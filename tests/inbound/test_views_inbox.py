from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import schema_context

from events.models import EmailState, FilingState
from inbound.models import Delivery, Verdict
from tests.factories import EmailFactory, ProjectFactory

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


def test_it_polls_the_rows_only_while_something_is_in_flight(world, client_as):
    member = client_as(world.member)
    done = EmailFactory(state=EmailState.PROCESSED)
    body = member.get(INBOX).content.decode()
    assert 'data-live="rows"' not in body
    # Nothing in flight: only the arrival check of the first page, after its newest row.
    assert f'hx-get="/inbox/?after={done.pk}" hx-trigger="every 15s"' in body
    EmailFactory(state=EmailState.QUEUED, project=None)
    body = member.get(INBOX).content.decode()
    assert 'hx-get="/inbox/" hx-trigger="every 3s" hx-swap="outerHTML" data-live="rows"' in body
    assert 'data-live="arrivals"' not in body


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


# --- live, filters, search and re-process ------------------------------------------------------


def test_the_arrival_check_answers_204_until_newer_mail_arrives(world, client_as):
    member = client_as(world.member)
    first = EmailFactory(subject="First", state=EmailState.PROCESSED)
    response = member.get(INBOX, {"after": first.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response.content == b""
    EmailFactory(subject="Just arrived", state=EmailState.QUEUED, project=None)
    response = member.get(INBOX, {"after": first.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<tbody id="inbox-rows"')
    assert "Just arrived" in body and "First" in body
    assert 'data-live="rows"' in body  # the new one is in flight: now the rows are polled


def test_an_empty_inbox_asks_for_arrivals_and_later_pages_do_not(world, client_as):
    member = client_as(world.member)
    assert 'hx-get="/inbox/?after=0"' in member.get(INBOX).content.decode()
    EmailFactory.create_batch(51, state=EmailState.PROCESSED)
    assert 'data-live="arrivals"' not in member.get(INBOX, {"page": "2"}).content.decode()


def test_the_arrival_check_keeps_the_filters(world, client_as):
    member = client_as(world.member)
    mine = EmailFactory(from_address="ana@harbour.example", state=EmailState.PROCESSED)
    body = member.get(INBOX, {"sender": "harbour.example"}).content.decode()
    assert f'hx-get="/inbox/?sender=harbour.example&amp;after={mine.pk}"' in body
    EmailFactory(from_address="someone@else.example", state=EmailState.PROCESSED)
    # Mail from another sender is no news for this view.
    assert member.get(INBOX, {"sender": "harbour.example", "after": mine.pk}, HTTP_HX_REQUEST="true").status_code == 204


def test_it_filters_by_project_sender_and_words(world, client_as):
    member = client_as(world.member)
    kitchen, roof = ProjectFactory(name="Kitchen"), ProjectFactory(name="Roof")
    EmailFactory(project=kitchen, subject="Tiles chosen", from_address="ana@harbour.example", text="mapbox tiles")
    EmailFactory(project=roof, subject="Roof survey", from_address="bo@harbour.example", text="slates")
    EmailFactory(project=None, subject="Who is this", from_address="x@unknown.example", filing=FilingState.UNFILED)

    def subjects(**params):
        return {e.subject for e in member.get(INBOX, params).context["emails"]}

    assert subjects(project=str(kitchen.code)) == {"Tiles chosen"}
    assert subjects(project="none") == {"Who is this"}
    assert subjects(sender="bo@harbour.example") == {"Roof survey"}
    assert subjects(sender="BO@Harbour.example ") == {"Roof survey"}
    assert subjects(sender="harbour.example") == {"Tiles chosen", "Roof survey"}
    assert subjects(sender="@harbour.example") == {"Tiles chosen", "Roof survey"}
    assert subjects(q="mapbox") == {"Tiles chosen"}  # in the text only
    assert subjects(q="surv") == {"Roof survey"}  # a word's beginning
    assert subjects(q="harbour slates") == {"Roof survey"}  # every word, sender and text
    assert subjects(q="tiles", sender="bo@harbour.example") == set()
    # A malformed project code or an unknown state is ignored, not an error.
    assert len(subjects(project="not-a-code", state="lost")) == 3


def test_a_filtered_view_says_so_and_the_state_tabs_and_pager_keep_the_filters(world, client_as):
    member = client_as(world.member)
    EmailFactory.create_batch(51, from_address="ana@harbour.example", state=EmailState.PROCESSED)
    body = member.get(INBOX, {"sender": "harbour.example"}).content.decode()
    assert 'href="/inbox/?sender=harbour.example&amp;state=failed"' in body
    assert 'href="?sender=harbour.example&amp;page=2"' in body
    assert 'value="harbour.example"' in body  # the form shows what is applied
    empty = member.get(INBOX, {"q": "nothingmatches"}).content.decode()
    assert "No mail matches these filters." in empty


def test_the_filter_form_works_with_htmx_and_swaps_the_results(world, client_as):
    EmailFactory(subject="Tiles chosen", state=EmailState.PROCESSED, text="mapbox")
    EmailFactory(subject="Roof survey", state=EmailState.PROCESSED)
    response = client_as(world.member).get(
        INBOX, {"q": "mapbox"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-results"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="inbox-results">')
    assert "Tiles chosen" in body and "Roof survey" not in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_each_sender_links_to_their_mail(world, client_as):
    EmailFactory(from_address="ana@harbour.example", from_name="Ana")
    body = client_as(world.member).get(INBOX).content.decode()
    assert 'href="/inbox/?sender=ana%40harbour.example"' in body


def test_another_workspaces_project_filters_to_nothing(world, client_as, other_org):
    with schema_context(other_org.schema_name):
        foreign = ProjectFactory(name="Foreign")
        EmailFactory(project=foreign, subject="Their mail")
    EmailFactory(subject="Our mail")
    response = client_as(world.member).get(INBOX, {"project": str(foreign.code), "q": "mail"})
    assert response.status_code == 200
    assert response.context["emails"] == []
    assert "Foreign" not in response.content.decode()


def test_re_process_is_offered_only_where_it_applies(world, client_as):
    rows = {state: EmailFactory(state=state, project=None) for state in EmailState.values}
    body = client_as(world.admin).get(INBOX).content.decode()
    offered = {state for state, email in rows.items() if reverse("events:email_reprocess", args=[email.code]) in body}
    assert offered == {"failed", "held", "ignored"}


def test_the_inbox_costs_the_same_queries_with_1_and_500_emails_filtered_or_not(
    world, client_as, django_assert_num_queries
):
    admin: Client = client_as(world.admin)
    project = ProjectFactory()
    EmailFactory(project=project, from_address="ana@harbour.example", text="mapbox", state=EmailState.PROCESSED)
    params = {"project": str(project.code), "sender": "harbour.example", "q": "mapbox"}
    counts = {}
    arrivals = {**params, "after": 10**9}
    for name, query, headers in (
        ("plain", {}, {}),
        ("filtered", params, {}),
        ("arrivals", arrivals, {"HTTP_HX_REQUEST": "true"}),
    ):
        admin.get(INBOX, query, **headers)  # warm the session and caches
        with CaptureQueriesContext(connection) as one:
            admin.get(INBOX, query, **headers)
        counts[name] = len(one.captured_queries)
    EmailFactory.create_batch(
        499, project=project, from_address="ana@harbour.example", text="mapbox", state=EmailState.PROCESSED
    )
    for name, query in (("plain", {}), ("filtered", params)):
        with django_assert_num_queries(counts[name]):
            response = admin.get(INBOX, query)
        assert len(response.context["emails"]) == 50
    # The arrival check, asked every 15 s by every open inbox, is one query past the access checks.
    with django_assert_num_queries(counts["arrivals"]):
        assert admin.get(INBOX, arrivals, HTTP_HX_REQUEST="true").status_code == 204
    assert counts["arrivals"] < counts["plain"]
