"""Backfills through the Message Batches API: the real Anthropic SDK over its mock
transport with recorded-shape answers (create → in_progress → ended, a results JSONL with succeeded,
errored and expired lines), the real commands, pipeline and django-q2 task functions."""

from __future__ import annotations

import json
import mailbox
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import anthropic
import httpx2
import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tenants.utils import schema_context

from events import tasks
from events.ai_batches import backfill_dispatch, custom_id
from events.models import Email, EmailLog, EmailState, Event
from extraction.prices import cost_usd
from extraction.providers import anthropic as claude
from inbound.management.commands import _feed
from tests.extraction.test_anthropic import USAGE
from tests.inbound.conftest import make_message
from usage.models import AIBatch, AIBatchStatus, UsageRecord

MODEL = "claude-haiku-5-5"
BATCH_ID = "msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d"
CREATED = "2026-12-07T21:00:00Z"


def answer(n: int) -> dict[str, Any]:
    """Claude's answer (recorded shape) for the n-th email of the backfill: a new project, one meeting."""
    return {
        "project": {
            "action": "new",
            "project_id": None,
            "name": "Harbour – refit",
            "client_name": "Harbour",
            "client_email": "pat@harbour-client.test",
            "confidence": 0.9,
            "candidates": [],
            "noise": "",
            "reason": "a new client's project",
        },
        "summary": f"Update {n} on the refit.",
        "events": [
            {
                "kind": "meeting",
                "title": f"Site meeting {n}",
                "date": f"2026-11-{10 + n:02d}",
                "time": "10:00",
                "timezone": "",
                "people": [],
                "amount": None,
                "currency": "",
                "evidence": f"Site meeting {n} is on {10 + n} November 2026 at 10:00.",
                "confidence": 0.9,
                "updates_event_id": None,
                "update_action": "",
            }
        ],
    }


def message_json(text: str, *, stop_reason: str = "end_turn", msg_id: str = "msg_1") -> dict[str, Any]:
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": USAGE,
    }


def batch_json(
    status: str, *, requests: int, counts: dict[str, int] | None = None, batch_id: str = BATCH_ID
) -> dict[str, Any]:
    ended = status == "ended"
    return {
        "id": batch_id,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {
            "processing": 0 if ended else requests,
            "succeeded": 0,
            "errored": 0,
            "canceled": 0,
            "expired": 0,
            **(counts or {}),
        },
        "created_at": CREATED,
        "expires_at": "2026-12-08T21:00:00Z",
        "ended_at": "2026-12-07T21:40:00Z" if ended else None,
        "cancel_initiated_at": None,
        "archived_at": None,
        "results_url": f"https://api.anthropic.com/v1/messages/batches/{BATCH_ID}/results" if ended else None,
    }


class Anthropic:
    """The Messages and Message Batches endpoints as the SDK sees them (httpx2.MockTransport)."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []  # the batches.create bodies
        self.messages: list[dict[str, Any]] = []  # per-email messages.create bodies
        self.status = "in_progress"
        self.results: list[dict[str, Any]] = []  # the JSONL lines, once ended
        self.requests = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/messages/batches":
            body = json.loads(request.content)
            self.created.append(body)
            self.requests = len(body["requests"])
            batch_id = BATCH_ID if len(self.created) == 1 else f"msgbatch_{len(self.created):02d}"
            return httpx2.Response(200, json=batch_json("in_progress", requests=self.requests, batch_id=batch_id))
        if request.method == "GET" and path == f"/v1/messages/batches/{BATCH_ID}":
            counts: dict[str, int] = {}
            if self.status == "ended":
                for line in self.results:
                    counts[line["result"]["type"]] = counts.get(line["result"]["type"], 0) + 1
            return httpx2.Response(200, json=batch_json(self.status, requests=self.requests, counts=counts))
        if request.method == "GET" and path == f"/v1/messages/batches/{BATCH_ID}/results":
            jsonl = "\n".join(json.dumps(line) for line in self.results) + "\n"
            return httpx2.Response(200, content=jsonl.encode(), headers={"content-type": "application/binary"})
        if request.method == "POST" and path == "/v1/messages":
            body = json.loads(request.content)
            self.messages.append(body)
            n = len(self.messages)
            return httpx2.Response(200, json=message_json(json.dumps(answer(90 - n))), headers={"request-id": "req_1"})
        return httpx2.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": path}})

    def client(self) -> anthropic.Anthropic:
        return claude.client_build(
            api_key="test",
            timeout=5.0,
            max_retries=0,
            http_client=anthropic.DefaultHttpxClient(transport=httpx2.MockTransport(self)),
        )

    def end(self, outcomes: dict[str, str], schema_name: str, email_ids: list[int]) -> None:
        """The batch ends; the email with id → its outcome (succeeded, errored, expired), in reverse
        order (results come in no particular order)."""
        self.status = "ended"
        self.results = []
        for n, email_id in enumerate(email_ids):
            outcome = outcomes.get(str(email_id), "succeeded")
            result: dict[str, Any] = {"type": outcome}
            if outcome == "succeeded":
                result["message"] = message_json(json.dumps(answer(n)), msg_id=f"msg_b{n}")
            elif outcome == "errored":
                result["error"] = {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                    "request_id": None,
                }
            self.results.append({"custom_id": custom_id(schema_name, email_id), "result": result})
        self.results.reverse()


@pytest.fixture
def api(settings) -> Iterator[Anthropic]:
    settings.PROJECTR_AI_PROVIDER = "anthropic"
    settings.ANTHROPIC_API_KEY = "test"
    settings.PROJECTR_AI_MODEL = MODEL
    settings.PROJECTR_AI_BATCH_MIN = 2
    server = Anthropic()
    client = server.client()
    # The SDK client built from settings, every request answered by the mock transport.
    with mock.patch("extraction.api._shared_client", return_value=client):
        yield server


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def mbox_of(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "archive.mbox"
    box = mailbox.mbox(path)
    for n in range(count):
        box.add(
            make_message(
                sender="pat@harbour-client.test",
                subject=f"Harbour refit: update {n}",
                body=f"Hi team,\n\nSite meeting {n} is on {10 + n} November 2026 at 10:00.\n\nPat\n",
                message_id=f"<update-{n}@harbour-client.test>",
            )
        )
    box.close()
    return path


def emails(org) -> list[Email]:
    with schema_context(org.schema_name):
        return list(Email.objects.order_by("received_at", "pk"))


def test_a_large_mbox_backfill_goes_through_one_message_batch_and_the_poll_task_applies_it(
    world, api, tmp_path, django_capture_on_commit_callbacks
):
    org = world.org
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        output = run("import_mbox", "--org", "testorg", "--skip-sender-check", str(mbox_of(tmp_path, 4)))

    assert "stored: 4" in output
    assert f"4 emails sent to Claude as Message Batch {BATCH_ID}" in output
    assert async_task.call_count == 0  # no per-email task: they wait for the batch
    stored = emails(org)
    assert {e.state for e in stored} == {EmailState.BATCHED}
    # One request per email, custom_id = schema + email id, the per-email call's own request.
    (created,) = api.created
    assert [r["custom_id"] for r in created["requests"]] == [f"{org.schema_name}-{e.pk}" for e in stored]
    first = created["requests"][0]["params"]
    assert first["model"] == MODEL
    assert first["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert first["output_config"]["format"]["schema"] == claude.STRICT_SCHEMA
    assert "Site meeting 0 is on 10 November 2026" in first["messages"][0]["content"]
    batch = AIBatch.objects.get()
    assert (batch.organization, batch.status, batch.requests) == (org, AIBatchStatus.SUBMITTED, 4)
    assert batch.email_ids == [e.pk for e in stored]

    # Still in progress: the task records it and nothing is applied.
    assert tasks.ai_batches_poll_task() == 0
    batch.refresh_from_db()
    assert (batch.status, batch.progress) == (AIBatchStatus.PROCESSING, "processing 0 of 4")
    assert {e.state for e in emails(org)} == {EmailState.BATCHED}

    # Ended: every result applied as a per-email answer would be, billed at half price.
    api.end({}, org.schema_name, batch.email_ids)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.ai_batches_poll_task() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.applied, batch.fallback, batch.succeeded) == (AIBatchStatus.ENDED, 4, 0, 4)
    assert batch.progress == "ended: 4 applied, 0 processed one by one"
    done = emails(org)
    assert {e.state for e in done} == {EmailState.PROCESSED}
    assert len({e.project_id for e in done}) == 1  # the first created the project, the rest joined it
    with schema_context(org.schema_name):
        titles = sorted(Event.objects.values_list("title", flat=True))
    assert titles == [f"Site meeting {n}" for n in range(4)]
    rows = UsageRecord.objects.filter(organization=org)
    assert rows.count() == 4 and all(row.batch for row in rows)
    half = cost_usd(MODEL, input_tokens=1200, output_tokens=150, cache_read_tokens=900, batch=True)
    full = cost_usd(MODEL, input_tokens=1200, output_tokens=150, cache_read_tokens=900)
    assert {row.cost_usd for row in rows} == {half} and half * 2 == full
    assert batch.cost_usd == half * 4

    # A later run finds no open batch and applies nothing twice.
    assert tasks.ai_batches_poll_task() == 0
    assert UsageRecord.objects.filter(organization=org).count() == 4


def test_errored_and_expired_requests_fall_back_to_the_per_email_queue(
    world, api, tmp_path, django_capture_on_commit_callbacks
):
    org = world.org
    with mock.patch("events.enqueue.async_task"), django_capture_on_commit_callbacks(execute=True):
        run("import_mbox", "--org", "testorg", "--skip-sender-check", str(mbox_of(tmp_path, 4)))
    batch = AIBatch.objects.get()
    ids = batch.email_ids
    api.end({str(ids[1]): "errored", str(ids[2]): "expired"}, org.schema_name, ids)

    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        tasks.ai_batches_poll_task()

    batch.refresh_from_db()
    assert (batch.applied, batch.fallback, batch.errored, batch.expired) == (2, 2, 1, 1)
    states = {e.pk: e.state for e in emails(org)}
    assert [states[pk] for pk in ids] == [
        EmailState.PROCESSED,
        EmailState.QUEUED,
        EmailState.QUEUED,
        EmailState.PROCESSED,
    ]
    # Their per-email tasks are queued; run them as the worker would: full price, one call each.
    assert sorted(call.args[1:] for call in async_task.call_args_list) == [
        (org.schema_name, ids[1]),
        (org.schema_name, ids[2]),
    ]
    # A task takes every due turn: the first processes both, the second finds nothing left.
    states_returned = [
        tasks.email_process_task(schema_name, email_id)
        for _, schema_name, email_id in (call.args for call in async_task.call_args_list)
    ]
    assert states_returned == [EmailState.PROCESSED, "skipped"]
    assert len(api.messages) == 2
    assert {e.state for e in emails(org)} == {EmailState.PROCESSED}
    rows = UsageRecord.objects.filter(organization=org)
    assert sorted(row.batch for row in rows) == [False, False, True, True]
    with schema_context(org.schema_name):
        reasons = list(EmailLog.objects.filter(email_id=ids[1]).values_list("message", flat=True))
    assert any("Batch gave no answer (batch request errored (overloaded_error))" in r for r in reasons)


def test_an_email_already_processed_is_skipped_when_its_result_comes(
    world, api, tmp_path, django_capture_on_commit_callbacks
):
    org = world.org
    with mock.patch("events.enqueue.async_task"), django_capture_on_commit_callbacks(execute=True):
        run("import_mbox", "--org", "testorg", "--skip-sender-check", str(mbox_of(tmp_path, 3)))
    batch = AIBatch.objects.get()
    # Someone processed the first one meanwhile (it left the batch).
    with schema_context(org.schema_name):
        Email.objects.filter(pk=batch.email_ids[0]).update(state=EmailState.PROCESSED)
    api.end({}, org.schema_name, batch.email_ids)

    tasks.ai_batches_poll_task()

    batch.refresh_from_db()
    assert (batch.applied, batch.skipped) == (2, 1)
    assert UsageRecord.objects.filter(organization=org).count() == 2


def test_an_invalid_answer_is_validated_as_a_per_email_answer_is(
    world, api, tmp_path, django_capture_on_commit_callbacks
):
    org = world.org
    with mock.patch("events.enqueue.async_task"), django_capture_on_commit_callbacks(execute=True):
        run("import_mbox", "--org", "testorg", "--skip-sender-check", str(mbox_of(tmp_path, 3)))
    batch = AIBatch.objects.get()
    api.end({}, org.schema_name, batch.email_ids)
    bad = answer(0)
    bad["events"][0].update(kind="party", date="2099-01-01")  # an unknown kind, a date years away
    bad["project"].update(action="existing", project_id=987654)  # a project not offered
    next(line for line in api.results if line["custom_id"] == custom_id(org.schema_name, batch.email_ids[0]))["result"][
        "message"
    ]["content"][0]["text"] = json.dumps(bad)

    with mock.patch("events.enqueue.async_task"), django_capture_on_commit_callbacks(execute=True):
        tasks.ai_batches_poll_task()

    with schema_context(org.schema_name):
        first = Email.objects.get(pk=batch.email_ids[0])
        assert first.state == EmailState.PROCESSED
        assert not Event.objects.filter(email=first).exists()  # the event was dropped
        assert first.project is None or first.project.pk != 987654


def test_small_backfills_and_the_rules_provider_keep_the_per_email_path(
    world, api, settings, tmp_path, django_capture_on_commit_callbacks
):
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        output = run("import_mbox", "--org", "testorg", "--skip-sender-check", str(mbox_of(tmp_path, 2)))
    assert "Message Batch" not in output and async_task.call_count == 2

    settings.PROJECTR_AI_PROVIDER = "rules"
    (tmp_path / "more").mkdir()
    for n in range(5):
        (tmp_path / "more" / f"{n}.eml").write_bytes(make_message(message_id=f"<more-{n}@x.test>", subject=f"More {n}"))
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        output = run("ingest_eml", "--org", "testorg", str(tmp_path / "more"))
    assert "Message Batch" not in output and async_task.call_count == 5
    assert not api.created and not AIBatch.objects.exists()


def test_reprocess_all_goes_through_a_batch_and_no_batch_opts_out(world, api, django_capture_on_commit_callbacks):
    from tests.factories import EmailFactory

    org = world.org
    made = [EmailFactory(state=EmailState.PROCESSED, project=None) for _ in range(3)]
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        output = run("reprocess", "--org", "testorg", "--all", "--no-batch")
    assert "Re-queued 3 of 3" in output and async_task.call_count == 3 and not api.created

    with schema_context(org.schema_name):
        Email.objects.update(state=EmailState.PROCESSED)
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        output = run("reprocess", "--org", "testorg", "--all")
    assert f"3 emails sent to Claude as Message Batch {BATCH_ID}" in output and async_task.call_count == 0
    assert sorted(AIBatch.objects.get().email_ids) == sorted(e.pk for e in made)


def test_mail_the_plan_would_hold_and_auto_replies_go_one_by_one(world, api, django_capture_on_commit_callbacks):
    from tests.factories import EmailFactory

    org = world.org
    auto = EmailFactory(state=EmailState.QUEUED, project=None, headers=[["Auto-Submitted", "auto-replied"]])
    ordinary = [EmailFactory(state=EmailState.QUEUED, project=None) for _ in range(3)]
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        result = backfill_dispatch(organization=org, email_ids=[auto.pk] + [e.pk for e in ordinary])
    assert result.batched == [e.pk for e in ordinary] and result.queued == [auto.pk]
    assert async_task.call_count == 1

    # Over the plan's email limit: nothing is batched, every email goes to the per-email path (held there).
    with schema_context(org.schema_name):
        more = [EmailFactory(state=EmailState.QUEUED, project=None).pk for _ in range(3)]
    org.custom_email_limit = 0
    org.save(update_fields=["custom_email_limit"])
    with mock.patch("events.enqueue.async_task"), django_capture_on_commit_callbacks(execute=True):
        result = backfill_dispatch(organization=org, email_ids=more)
    assert not result.batches and result.queued == more


def test_a_failed_submission_queues_every_email_one_by_one(world, api, django_capture_on_commit_callbacks):
    from tests.factories import EmailFactory

    ids = [EmailFactory(state=EmailState.QUEUED, project=None).pk for _ in range(3)]
    broken = anthropic.Anthropic(
        api_key="test",
        max_retries=0,
        http_client=anthropic.DefaultHttpxClient(
            transport=httpx2.MockTransport(
                lambda r: httpx2.Response(400, json={"type": "error", "error": {"type": "invalid_request_error"}})
            )
        ),
    )
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        result = backfill_dispatch(organization=world.org, email_ids=ids, client=broken)
    assert not result.batches and async_task.call_count == 3
    assert {e.state for e in emails(world.org)} == {EmailState.QUEUED}


def test_the_inbox_shows_the_batchs_progress(world, api, tmp_path, client_as, django_capture_on_commit_callbacks):
    org = world.org
    with mock.patch("events.enqueue.async_task"), django_capture_on_commit_callbacks(execute=True):
        run("import_mbox", "--org", "testorg", "--skip-sender-check", str(mbox_of(tmp_path, 3)))
    client = client_as(world.member)
    page = client.get(reverse("events:inbox")).content.decode()
    assert "Backfill of 3 emails" in page and "submitted, 3 emails" in page
    assert "In a batch (3)" in page

    tasks.ai_batches_poll_task()
    page = client.get(reverse("events:inbox")).content.decode()
    assert "processing 0 of 3" in page and "Message Batch: processing 0 of 3" in page
    assert 'hx-trigger="every 30s"' in page

    api.end({}, org.schema_name, AIBatch.objects.get().email_ids)
    tasks.ai_batches_poll_task()
    page = client.get(reverse("events:inbox")).content.decode()
    assert "ended: 3 applied, 0 processed one by one" in page


def test_the_poll_schedule_is_ensured(public):
    names = {schedule.name for schedule in tasks.schedules_ensure()}
    assert "events: poll AI batches" in names


def test_the_feed_command_dispatches_what_it_stored_even_when_a_message_stops_it(
    world, api, tmp_path, django_capture_on_commit_callbacks
):
    """A database error mid-way must not leave the stored emails without their tasks."""
    path = mbox_of(tmp_path, 4)
    calls = {"n": 0}
    real = _feed.message_feed

    def flaky(**kwargs: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    with (
        mock.patch.object(_feed, "message_feed", flaky),
        mock.patch("events.enqueue.async_task"),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        run("import_mbox", "--org", "testorg", "--skip-sender-check", str(path))
    assert AIBatch.objects.get().requests == 3
    assert {e.state for e in emails(world.org)} == {EmailState.BATCHED}
    assert Decimal(0) == sum((r.cost_usd for r in UsageRecord.objects.all()), Decimal(0))


def test_a_batch_gone_at_the_api_sends_its_emails_one_by_one(world, api, django_capture_on_commit_callbacks):
    from tests.factories import EmailFactory

    ids = [EmailFactory(state=EmailState.BATCHED, project=None).pk for _ in range(2)]
    AIBatch.objects.create(organization=world.org, batch_id="msgbatch_gone", email_ids=ids, requests=2)
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        assert tasks.ai_batches_poll_task() == 1
    assert async_task.call_count == 2
    assert {e.state for e in emails(world.org)} == {EmailState.QUEUED}
    assert AIBatch.objects.get().fallback == 2


def test_a_large_batch_is_applied_over_several_runs_within_the_task_timeout(
    world, api, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PROJECTR_AI_BATCH_APPLY_SECONDS = 1e-9  # one email per run
    org = world.org
    with mock.patch("events.enqueue.async_task"), django_capture_on_commit_callbacks(execute=True):
        run("import_mbox", "--org", "testorg", "--skip-sender-check", str(mbox_of(tmp_path, 3)))
    batch = AIBatch.objects.get()
    api.end({str(batch.email_ids[2]): "expired"}, org.schema_name, batch.email_ids)

    with mock.patch("events.enqueue.async_task"), django_capture_on_commit_callbacks(execute=True):
        assert [tasks.ai_batches_poll_task() for _ in range(4)] == [0, 0, 1, 0]
    batch.refresh_from_db()
    assert (batch.status, batch.applied, batch.fallback, batch.skipped) == (AIBatchStatus.ENDED, 2, 1, 0)
    assert UsageRecord.objects.filter(organization=org, batch=True).count() == 2


def test_a_very_large_backfill_is_split_into_several_batches(world, api, tmp_path, django_capture_on_commit_callbacks):
    with (
        mock.patch("events.ai_batches.BATCH_MAX_REQUESTS", 2),
        mock.patch("events.enqueue.async_task") as async_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        output = run("import_mbox", "--org", "testorg", "--skip-sender-check", str(mbox_of(tmp_path, 5)))
    assert f"5 emails sent to Claude as Message Batch {BATCH_ID}, msgbatch_02, msgbatch_03" in output
    assert [len(body["requests"]) for body in api.created] == [2, 2, 1]
    assert list(AIBatch.objects.order_by("pk").values_list("requests", flat=True)) == [2, 2, 1]
    assert async_task.call_count == 0 and {e.state for e in emails(world.org)} == {EmailState.BATCHED}
