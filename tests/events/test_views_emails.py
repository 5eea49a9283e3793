"""The email view: headers, text with the evidence highlighted, sandboxed HTML, attachments, history,
where it is filed (state, confidence, waiting events, file, move and undo), and re-processing it from its
page or its inbox row."""

import datetime as dt
import html
import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Email, EmailFiling, EmailState, EventHistory, FilingState
from tests.factories import AttachmentFactory, EmailFactory, EmailLogFactory, EventFactory, ProjectFactory

HOSTILE_HTML = (
    '<p onclick="alert(1)">Hi <b>there</b></p><script>alert(2)</script>'
    '<img src="https://tracker.example/pixel.gif"><a href="javascript:alert(3)">x</a>'
    '<iframe src="https://evil.example"></iframe><style>body{background:url(https://t.example/a)}</style>'
)


@pytest.fixture
def member(world, client_as):
    return client_as(world.member)


def email_url(email):
    return reverse("events:email", args=[email.code])


def test_it_shows_headers_text_events_and_history(world, member):
    email = EmailFactory(subject="Kitchen refit: dates", from_name="Pat", cc=["ana@client.example"])
    EventFactory(project=email.project, email=email, title="Site meeting")
    EmailLogFactory(email=email, state=EmailState.QUEUED, message="Received via eml")
    EmailLogFactory(email=email, state=EmailState.PROCESSED, message="3 events found")
    body = member.get(email_url(email)).content.decode()
    assert "Kitchen refit: dates" in body
    assert "ana@client.example" in body
    assert email.message_id.replace("<", "&lt;").replace(">", "&gt;") in body
    assert "Site meeting" in body
    assert body.index("Received via eml") < body.index("3 events found")
    assert "The site meeting is on Friday at 10am." in body


def test_each_header_is_listed_once_and_the_summary_is_labelled(world, member):
    email = EmailFactory(
        to=["team@projectr.test"],
        cc=["ana@client.example"],
        summary="Ana moves the site meeting to Friday.",
        headers=[
            ["From", "Pat <pat@client.example>"],
            ["To", "team@projectr.test"],
            ["Cc", "ana@client.example"],
            ["Message-ID", "<m1@client.example>"],
            ["Subject", "Dates"],
            ["Reply-To", "office@client.example"],
        ],
    )
    body = member.get(email_url(email)).content.decode()
    headers = body[body.index('<dl class="header-list">') : body.index("</dl>", body.index('<dl class="header-list">'))]
    assert [re.sub(r"<[^>]+>", "", dt) for dt in re.findall(r"<dt>(.*?)</dt>", headers)] == [
        "To", "Cc", "Message-ID", "Received", "Reply-To",
    ]  # fmt: skip
    assert headers.count("ana@client.example") == 1
    assert "office@client.example" in headers
    summary = body[body.index('<article class="email-summary"') :]
    assert '<strong id="summary-heading">Summary</strong>' in summary
    assert summary.index("Ana moves the site meeting to Friday.") < summary.index("</article>")
    assert body.count("Ana moves the site meeting to Friday.") == 1


def test_an_email_without_a_summary_has_no_summary_box(world, member):
    assert "email-summary" not in member.get(email_url(EmailFactory(summary=""))).content.decode()


def test_it_highlights_the_evidence_sentence_of_an_event(world, member):
    email = EmailFactory(text="Hello,\n\nThe site meeting is on\nFriday at 10am.\nThanks")
    event = EventFactory(project=email.project, email=email, evidence="The site meeting is on Friday at 10am.")
    body = member.get(email_url(email), {"highlight": str(event.code)}).content.decode()
    assert '<mark id="evidence">The site meeting is on\nFriday at 10am.</mark>' in body


def test_the_highlight_stays_escaped(world, member):
    email = EmailFactory(text="Before <b>bold</b> <script>alert(1)</script> after")
    event = EventFactory(project=email.project, email=email, evidence="<script>alert(1)</script>")
    body = member.get(email_url(email), {"highlight": str(event.code)}).content.decode()
    assert '<mark id="evidence">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in body
    assert "<script>alert(1)" not in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body


def test_an_unknown_highlight_is_ignored(world, member):
    email = EmailFactory()
    body = member.get(email_url(email), {"highlight": "nope"}).content.decode()
    assert "<mark" not in body


def test_html_is_sanitised_again_and_framed_in_a_sandbox(world, member):
    email = EmailFactory(html=HOSTILE_HTML, subject='<img src=x onerror="alert(4)">')
    body = member.get(email_url(email)).content.decode()
    frame = re.search(r"<iframe ([^>]*)>", body).group(1)
    assert 'sandbox=""' in frame
    assert "allow-scripts" not in frame
    assert "allow-same-origin" not in frame
    document = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert "<b>there</b>" in document
    for forbidden in ("<script", "onclick", "<img", "javascript:", "<iframe", "tracker.example", "t.example"):
        assert forbidden not in document
    assert "default-src 'none'" in document
    # Nothing outside the frame carries the payload either.
    assert '<img src=x onerror="alert(4)">' not in body


def test_attachments_download_as_attachments_for_members(world, client_as):
    email = EmailFactory()
    attachment = AttachmentFactory(email=email, filename='evil"<script>.html', content_type="text/html")
    viewer = client_as(world.viewer)
    response = viewer.get(reverse("events:email_attachment", args=[email.code, attachment.code]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"


def test_attachments_are_not_served_to_outsiders_or_anonymous_visitors(world, client_as, workspace_client):
    email = EmailFactory()
    attachment = AttachmentFactory(email=email)
    link = reverse("events:email_attachment", args=[email.code, attachment.code])
    assert client_as(world.outsider).get(link).status_code == 404
    assert workspace_client.get(link).status_code == 302
    other = EmailFactory()
    assert (
        client_as(world.member).get(reverse("events:email_attachment", args=[other.code, attachment.code])).status_code
        == 404
    )


def test_another_workspaces_email_is_not_found(world, member, other_org):
    with schema_context(other_org.schema_name):
        foreign = EmailFactory(project=ProjectFactory())
    assert member.get(email_url(foreign)).status_code == 404


def test_a_confirming_reply_lists_the_earlier_event_it_confirmed(world, member):
    proposal = EmailFactory(subject="Kickoff")
    event = EventFactory(project=proposal.project, email=proposal, title="Kickoff meeting")
    reply = EmailFactory(project=proposal.project, subject="Re: Kickoff", text="Hi,\n\nTuesday at 10am works.\n")
    EventHistory.objects.create(event=event, action="confirmed", email=reply, note="Tuesday at 10am works.")

    body = member.get(email_url(reply)).content.decode()

    confirmed = re.search(r'<ul class="email-events email-confirmed">.*?</ul>', body, re.S).group(0)
    assert "Kickoff meeting" in confirmed
    assert f'href="{email_url(proposal)}?highlight={event.code}#evidence"' in confirmed
    assert "No events" not in body


def test_the_highlight_of_a_confirmed_event_marks_the_sentence_that_confirmed_it(world, member):
    proposal = EmailFactory()
    event = EventFactory(project=proposal.project, email=proposal, evidence="Can we meet Tuesday at 10am?")
    reply = EmailFactory(project=proposal.project, text="Hi,\n\nTuesday at 10am\nworks.\n")
    EventHistory.objects.create(event=event, action="confirmed", email=reply, note="Tuesday at 10am works.")

    body = member.get(email_url(reply), {"highlight": str(event.code)}).content.decode()

    assert '<mark id="evidence">Tuesday at 10am\nworks.</mark>' in body


def test_the_state_reason_is_shown_once_when_the_log_already_says_it(world, member):
    email = EmailFactory(state=EmailState.PROCESSED, state_reason="2 new, 0 updated events")
    EmailLogFactory(email=email, state=EmailState.PROCESSED, message="2 new, 0 updated events")
    unlogged = EmailFactory(state=EmailState.HELD, state_reason="Held by an admin")
    EmailLogFactory(email=unlogged, state=EmailState.QUEUED, message="Received")

    assert member.get(email_url(email)).content.decode().count("2 new, 0 updated events") == 1
    assert "Held by an admin" in member.get(email_url(unlogged)).content.decode()


def test_the_email_view_costs_the_same_queries_with_1_and_500_items(world, member, django_assert_num_queries):
    email = EmailFactory()
    EventFactory(project=email.project, email=email)
    EmailLogFactory(email=email)
    AttachmentFactory(email=email)
    with CaptureQueriesContext(connection) as one:
        assert member.get(email_url(email)).status_code == 200
    EventFactory.create_batch(499, project=email.project, email=email)
    EmailLogFactory.create_batch(499, email=email)
    earlier = EventFactory.create_batch(500, project=email.project, email=EmailFactory(project=email.project))
    EventHistory.objects.bulk_create(EventHistory(event=e, action="confirmed", email=email) for e in earlier)
    with django_assert_num_queries(len(one.captured_queries)):
        response = member.get(email_url(email))
    assert len(response.context["events"]) == 500
    assert len(response.context["confirmed"]) == 500


# --- re-process: one route, from the email page and from an inbox row ---------------------------

INBOX = "/inbox/"


def reprocess_url(email):
    return reverse("events:email_reprocess", args=[email.code])


def test_an_admin_requeues_a_failed_email_from_its_page_through_the_pipeline(
    world, client_as, django_capture_on_commit_callbacks
):
    email = EmailFactory(state=EmailState.FAILED)
    admin = client_as(world.admin)
    assert reprocess_url(email) in admin.get(email_url(email)).content.decode()
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reprocess_url(email))
    assert response.status_code == 302
    assert response["Location"] == email_url(email)
    email.refresh_from_db()
    assert email.state == EmailState.QUEUED
    assert async_task.call_count == 1
    again = admin.post(reprocess_url(email), follow=True)
    assert "already waiting" in again.content.decode()


def test_an_inbox_row_posts_to_the_same_route_and_returns_to_the_inbox_without_javascript(world, client_as):
    email = EmailFactory(state=EmailState.FAILED)
    admin = client_as(world.admin)
    assert reprocess_url(email) in admin.get(INBOX).content.decode()
    with mock.patch("events.enqueue.async_task"):
        response = admin.post(reprocess_url(email), {"shown_in": "inbox"})
    assert response.status_code == 302
    assert response["Location"] == reverse("events:inbox")
    email.refresh_from_db()
    assert email.state == EmailState.QUEUED


def test_with_htmx_the_inbox_row_comes_back_queued_in_place(world, client_as):
    email = EmailFactory(state=EmailState.FAILED, subject="Menu boards")
    with mock.patch("events.enqueue.async_task"):
        response = client_as(world.admin).post(reprocess_url(email), {"shown_in": "inbox"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="email-{email.code}">')
    assert "Menu boards" in body
    assert "state-queued" in body
    assert "queued to be processed again" in body
    assert reprocess_url(email) not in body  # queued mail offers no second try


def test_admins_can_reprocess_all_failed_and_held_mail(world, client_as):
    failed, held, done = (EmailFactory(state=s) for s in (EmailState.FAILED, EmailState.HELD, EmailState.PROCESSED))
    with mock.patch("events.enqueue.async_task"):
        response = client_as(world.owner).post(reverse("events:inbox_reprocess_all"))
    assert response.status_code == 302
    states = dict(Email.objects.values_list("pk", "state"))
    assert (states[failed.pk], states[held.pk], states[done.pk]) == ("queued", "queued", "processed")


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_below_admin_are_not_offered_re_process_and_cannot_use_it(world, client_as, role):
    email = EmailFactory(state=EmailState.FAILED)
    client = client_as(world.user(role))
    assert reprocess_url(email) not in client.get(INBOX).content.decode()
    assert reprocess_url(email) not in client.get(email_url(email)).content.decode()
    assert client.post(reprocess_url(email)).status_code == 403
    assert client.post(reprocess_url(email), {"shown_in": "inbox"}).status_code == 403
    assert client.post(reverse("events:inbox_reprocess_all")).status_code == 403
    email.refresh_from_db()
    assert email.state == EmailState.FAILED


def test_reprocess_needs_post_and_a_real_email(world, client_as):
    admin = client_as(world.admin)
    email = EmailFactory(state=EmailState.FAILED)
    assert admin.get(reprocess_url(email)).status_code == 405
    missing = reverse("events:email_reprocess", args=["00000000-0000-0000-0000-000000000000"])
    assert admin.post(missing).status_code == 404
    assert client_as(world.outsider).post(reprocess_url(email)).status_code == 404


def test_a_processed_row_that_moved_on_is_not_re_processed_from_the_inbox(world, client_as):
    email = EmailFactory(state=EmailState.PROCESSED)
    with mock.patch("events.enqueue.async_task") as async_task:
        response = client_as(world.admin).post(reprocess_url(email), {"shown_in": "inbox"}, follow=True)
    assert "nothing to re-process here" in response.content.decode()
    email.refresh_from_db()
    assert email.state == EmailState.PROCESSED
    assert async_task.call_count == 0


def test_the_email_page_offers_re_process_for_processed_mail_with_what_it_does_but_not_in_flight(world, client_as):
    admin = client_as(world.admin)
    processed = EmailFactory(state=EmailState.PROCESSED)
    queued = EmailFactory(state=EmailState.QUEUED, project=None)
    body = admin.get(email_url(processed)).content.decode()
    assert reprocess_url(processed) in body
    assert "events people edited or deleted stay as they are" in body
    assert reprocess_url(queued) not in admin.get(email_url(queued)).content.decode()
    with mock.patch("events.enqueue.async_task") as async_task:
        response = admin.post(reprocess_url(queued), follow=True)
    assert "already waiting to be processed" in response.content.decode()
    assert async_task.call_count == 0


# --- filing: state, confidence, waiting events, move and undo ---------------------------------


def _unfiled(**fields):
    day = timezone.localdate() + dt.timedelta(days=5)
    return EmailFactory(
        project=None,
        filing=FilingState.UNFILED,
        filing_confidence=0.42,
        filing_reason="subject words",
        waiting={
            "provider": "rules",
            "events": [{"kind": "deadline", "title": "Menu copy due", "date": day.isoformat(), "evidence": "x"}],
        },
        **fields,
    )


def test_it_shows_the_filing_state_confidence_and_reason(world, member):
    email = EmailFactory(filing=FilingState.AUTO, filing_confidence=0.87, filing_reason="same thread")
    body = member.get(email_url(email)).content.decode()
    panel = re.search(r'<article id="filing".*?</article>', body, re.S).group(0)
    assert "Filed automatically" in panel and email.project.name in panel
    assert "<dt>Confidence</dt><dd>87%</dd>" in panel
    assert "<dt>Reason</dt><dd>same thread</dd>" in panel


def test_an_unfiled_email_shows_its_waiting_events_and_the_filing_controls(world, member):
    cafe = ProjectFactory(name="Harbour cafe")
    email = _unfiled(
        suggestions=[{"project": cafe.pk, "score": 0.42, "name": "", "client_name": "", "client_email": ""}]
    )
    body = member.get(email_url(email)).content.decode()
    panel = re.search(r'<article id="filing".*?</article>', body, re.S).group(0)
    assert "Unfiled" in panel and "42%" in panel
    assert "Menu copy due" in panel and "Deadline" in panel
    assert reverse("events:email_file", args=[email.code]) in panel
    assert '<ol class="suggestions"' in panel and "Harbour cafe" in panel
    assert "Not project mail" in panel and "New project" in panel
    assert "hx-post" not in panel  # plain forms: the page reloads with the result
    assert "its events wait until it is filed" in body


def test_a_filed_email_offers_to_move_it_to_another_open_project(world, member):
    email = EmailFactory(filing=FilingState.AUTO)
    ProjectFactory(name="Bathroom")
    ProjectFactory(name="Old job", status="archived")
    panel = re.search(r'<article id="filing".*?</article>', member.get(email_url(email)).content.decode(), re.S)
    select = re.search(r'<select name="project".*?</select>', panel.group(0), re.S).group(0)
    assert "Move to…" in select and "Bathroom" in select
    assert email.project.name not in select and "Old job" not in select
    assert '<ol class="suggestions"' not in panel.group(0)


def test_moving_from_the_email_page_moves_its_events_and_offers_the_undo(world, member):
    email = EmailFactory(filing=FilingState.AUTO, subject="Tiles")
    source = email.project
    event = EventFactory(project=source, email=email, title="Tile delivery")
    target = ProjectFactory(name="Bathroom")
    response = member.post(
        reverse("events:email_file", args=[email.code]),
        {"action": "project", "project": str(target.code), "shown_in": "email", "next": email_url(email)},
        follow=True,
    )
    assert response.redirect_chain == [(email_url(email), 302)]
    body = response.content.decode()
    assert f"Moved from {source.name} to Bathroom." in body
    panel = re.search(r'<article id="filing".*?</article>', body, re.S).group(0)
    assert "Filed by a person" in panel
    assert f"Moved “Tiles” from {source.name} to" in panel and "By member@testorg.test" in panel
    assert reverse("events:email_filing_undo", args=[email.code]) in panel
    event.refresh_from_db()
    assert event.project == target

    filing = EmailFiling.objects.get(email=email)
    undone = member.post(
        reverse("events:email_filing_undo", args=[email.code]),
        {"filing": filing.pk, "shown_in": "email", "next": email_url(email)},
        follow=True,
    ).content.decode()
    assert f"Undone: the email is back in {source.name}." in undone
    event.refresh_from_db()
    assert event.project == source


def test_a_viewer_sees_where_an_email_is_filed_but_no_controls(world, client_as):
    email = _unfiled()
    body = client_as(world.viewer).get(email_url(email)).content.decode()
    panel = re.search(r'<article id="filing".*?</article>', body, re.S).group(0)
    assert "Unfiled" in panel and "Menu copy due" in panel
    assert "<form" not in panel


def test_the_email_page_of_an_unfiled_email_costs_the_same_queries_with_1_and_500_items(
    world, member, django_assert_num_queries
):
    projects = ProjectFactory.create_batch(3)
    email = _unfiled(
        suggestions=[
            {"project": p.pk, "score": 0.3, "name": "", "client_name": "", "client_email": ""} for p in projects
        ]
    )
    EmailLogFactory(email=email)
    with CaptureQueriesContext(connection) as one:
        assert member.get(email_url(email)).status_code == 200
    email.waiting = {"events": [{"kind": "meeting", "title": f"Call {i}", "date": None} for i in range(500)]}
    email.save(update_fields=["waiting"])
    ProjectFactory.create_batch(497)
    EmailLogFactory.create_batch(499, email=email)
    with django_assert_num_queries(len(one.captured_queries)):
        response = member.get(email_url(email))
    assert len(response.context["filing_row"].events) == 500
    assert len(response.context["filing_row"].suggestions) == 3
    assert len(response.context["choices"]) == 500


def test_the_email_page_of_a_filed_email_costs_the_same_queries_with_1_and_500_filings(
    world, member, django_assert_num_queries
):
    email = EmailFactory(filing=FilingState.HAND)
    EmailFiling.objects.create(email=email, actor=world.member, to_project=email.project, to_filing="hand")
    with CaptureQueriesContext(connection) as one:
        assert member.get(email_url(email)).status_code == 200
    projects = ProjectFactory.create_batch(499)
    EmailFiling.objects.bulk_create(
        EmailFiling(email=email, actor=world.member, from_project=p, to_project=email.project, to_filing="hand")
        for p in projects
    )
    with django_assert_num_queries(len(one.captured_queries)):
        response = member.get(email_url(email))
    assert response.context["latest_filing"].from_project == projects[-1]
