"""/api/v1/emails: state, detail without the raw message, re-processing."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Email, EmailState, HoldCause
from tests.factories import AttachmentFactory, EmailFactory, EmailLogFactory, EventFactory

URL = "/api/v1/emails"


def test_it_lists_emails_newest_first_with_their_state(reader, org):
    old = EmailFactory(subject="Old", state=EmailState.PROCESSED)
    new = EmailFactory(subject="New", state=EmailState.FAILED, state_reason="AI timed out")
    body = reader.get(URL).json()
    assert [(e["subject"], e["state"]) for e in body["items"]] == [("New", "failed"), ("Old", "processed")]
    assert body["items"][0]["state_reason"] == "AI timed out"
    assert body["items"][1]["project"] == str(old.project.code)
    assert [e["code"] for e in reader.get(URL, {"state": "failed"}).json()["items"]] == [str(new.code)]
    assert [e["code"] for e in reader.get(URL, {"project": str(old.project.code)}).json()["items"]] == [str(old.code)]


def test_it_pages_without_repeating_while_mail_arrives(reader, org):
    first = [EmailFactory(subject=f"M{i}") for i in range(3)]
    page1 = reader.get(URL, {"limit": 2}).json()
    EmailFactory(subject="Arrived meanwhile")
    page2 = reader.get(URL, {"limit": 2, "cursor": page1["next_cursor"]}).json()
    assert [e["subject"] for e in page1["items"] + page2["items"]] == [e.subject for e in reversed(first)]
    assert page2["next_cursor"] is None


def test_the_list_costs_the_same_queries_for_1_and_100_emails(reader, org):
    EmailFactory()
    reader.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert len(reader.get(URL, {"limit": 100}).json()["items"]) == 1
    EmailFactory.create_batch(99)
    with CaptureQueriesContext(connection) as hundred:
        assert len(reader.get(URL, {"limit": 100}).json()["items"]) == 100
    assert len(hundred) == len(one), [q["sql"] for q in hundred]


def test_the_detail_has_text_attachments_events_and_log_but_never_the_raw_message(reader, org):
    email = EmailFactory(html="<p>Hello</p>")
    AttachmentFactory(email=email, filename="plan.pdf")
    EventFactory(project=email.project, email=email, title="Site meeting")
    EmailLogFactory(email=email, message="Processed by rules")
    body = reader.get(f"{URL}/{email.code}").json()
    assert "site meeting is on Friday" in body["text"]
    assert body["html"] == "<p>Hello</p>"
    assert [a["filename"] for a in body["attachments"]] == ["plan.pdf"]
    assert [e["title"] for e in body["events"]] == ["Site meeting"]
    assert [entry["message"] for entry in body["logs"]] == ["Processed by rules"]
    assert "raw" not in body and "headers" not in body


def test_a_write_key_reprocesses_a_failed_email_and_it_is_queued(writer, org, broker_tasks):
    email = EmailFactory(state=EmailState.FAILED)
    response = writer.post(f"{URL}/{email.code}/reprocess")
    assert response.status_code == 202
    assert response.json()["queued"] is True
    assert Email.objects.get(pk=email.pk).state == EmailState.QUEUED
    assert broker_tasks() == [("events.tasks.email_process_task", (org.schema_name, email.pk))]


def test_reprocessing_an_email_already_in_the_queue_answers_409(writer, org):
    email = EmailFactory(state=EmailState.QUEUED)
    response = writer.post(f"{URL}/{email.code}/reprocess")
    assert response.status_code == 409
    assert response.json()["queued"] is False


def test_an_unknown_email_is_404(reader, writer, org):
    code = "00000000-0000-0000-0000-000000000000"
    assert reader.get(f"{URL}/{code}").status_code == 404
    assert writer.post(f"{URL}/{code}/reprocess").status_code == 404


def test_held_mail_says_why_it_is_held(reader, org):
    held = EmailFactory(state=EmailState.HELD, hold_cause=HoldCause.SENDER_NOT_AUTHENTICATED, state_reason="Sender…")
    EmailFactory(state=EmailState.PROCESSED)
    items = {e["code"]: e for e in reader.get(URL).json()["items"]}
    assert items[str(held.code)]["hold_cause"] == "sender_not_authenticated"
    assert reader.get(f"{URL}/{held.code}").json()["hold_cause"] == "sender_not_authenticated"
    assert {e["hold_cause"] for code, e in items.items() if code != str(held.code)} == {""}
