from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from billing.limits import ProcessingDecision
from events.apply import ApplyResult, ProjectLimitReached
from events.models import Email, EmailLog, EmailState, HoldCause
from events.processing import (
    MAX_ATTEMPTS,
    email_claim,
    email_process,
    email_reprocess,
    emails_reprocess,
    stale_processing_requeue,
)
from extraction.types import (
    Extraction,
    PermanentExtractionError,
    ProjectDecision,
    RetryableExtractionError,
    Usage,
)
from tests.factories import EmailFactory
from usage.models import UsageRecord


def queued(**kwargs) -> Email:
    return EmailFactory(state=EmailState.QUEUED, project=None, **kwargs)


def extraction(cost: str = "0.0012") -> Extraction:
    return Extraction(
        project=ProjectDecision(action="none"),
        events=[],
        summary="Kick-off agreed",
        usage=[Usage(provider="anthropic", model="claude-haiku-5-5", input_tokens=900, cost_usd=Decimal(cost))],
        provider="anthropic",
        model="claude-haiku-5-5",
    )


def states(email: Email) -> list[str]:
    return list(EmailLog.objects.filter(email=email).values_list("state", flat=True))


def test_it_processes_a_queued_email_and_records_usage(org):
    email = queued()
    with mock.patch("events.processing.extract", autospec=True, return_value=extraction()):
        result = email_process(schema_name=org.schema_name, email_id=email.pk)
    email.refresh_from_db()
    assert result.state == email.state == EmailState.PROCESSED
    assert email.summary == "Kick-off agreed"
    assert email.processed_at is not None
    assert states(email) == [EmailState.PROCESSING, EmailState.PROCESSED]
    record = UsageRecord.objects.get(organization=org)
    assert (record.email_code, record.input_tokens, record.cost_usd) == (email.code, 900, Decimal("0.0012"))


def test_it_processes_with_the_real_default_provider(org):
    email = queued()
    result = email_process(schema_name=org.schema_name, email_id=email.pk)
    assert result.state == EmailState.PROCESSED
    assert UsageRecord.objects.filter(organization=org, email_code=email.code).exists()


def test_the_log_of_a_reply_says_which_events_it_confirmed(org):
    from datetime import date, time

    from extraction.types import ExtractedEvent
    from tests.factories import EventFactory, ProjectFactory

    project = ProjectFactory()
    EventFactory(project=project, date=date(2026, 12, 1), time=time(10, 0), email=EmailFactory(project=project))
    reply = queued(project_hint=project.slug)
    kickoff = ExtractedEvent(kind="meeting", title="Kickoff", date=date(2026, 12, 1), time=time(10, 0))
    confirming = dataclasses.replace(extraction(), events=[kickoff])
    with mock.patch("events.processing.extract", autospec=True, return_value=confirming):
        email_process(schema_name=org.schema_name, email_id=reply.pk)
    reply.refresh_from_db()
    assert reply.state_reason == "0 new, 0 updated events, 1 confirmed"


def test_only_one_claim_of_an_email_succeeds(org):
    email = queued()
    assert email_claim(email.pk) is True
    assert email_claim(email.pk) is False
    with mock.patch("events.processing.extract", autospec=True) as extract:
        assert email_process(schema_name=org.schema_name, email_id=email.pk).state == "skipped"
    extract.assert_not_called()


def test_the_claim_gives_the_row_as_the_orm_reads_it_with_its_attachments_names(org):
    from events.processing import _claim_row
    from tests.factories import AttachmentFactory

    email = queued(
        headers=[["Date", "Fri, 4 Dec 2026 09:30:00 +1100"], ["X-Note", "ü"]],
        cc=["a@client.example"],
        references=["<a@x>", "<b@x>"],
        in_reply_to="<b@x>",
        html="<p>Hello</p>",
    )
    AttachmentFactory(email=email, filename="quote.xlsx")
    AttachmentFactory(email=email, filename="plan.pdf")

    claimed = _claim_row(email.pk)

    assert claimed is not None
    row, names, calendars = claimed
    fresh = Email.objects.get(pk=email.pk)
    fields = [f.attname for f in Email._meta.concrete_fields]
    assert {name: getattr(row, name) for name in fields} == {name: getattr(fresh, name) for name in fields}
    assert (row.state, row.attempts, row.headers[1]) == (EmailState.PROCESSING, 1, ["X-Note", "ü"])
    assert (row._state.adding, row._state.db, row.get_deferred_fields()) == (False, "default", set())
    assert (names, calendars) == (["quote.xlsx", "plan.pdf"], [])
    assert _claim_row(email.pk) is None


def test_it_holds_the_email_when_the_plan_limit_is_reached(org):
    email = queued()
    decision = ProcessingDecision(allowed=False, reason="500 emails this month")
    with (
        mock.patch("events.processing.processing_decide_and_notify", return_value=decision),
        mock.patch("events.processing.extract", autospec=True) as extract,
    ):
        result = email_process(schema_name=org.schema_name, email_id=email.pk)
    email.refresh_from_db()
    assert email.state == result.state == EmailState.HELD
    assert email.hold_cause == result.hold_cause == HoldCause.PLAN_LIMIT
    assert email.state_reason == "Plan limit: 500 emails this month"
    extract.assert_not_called()


def test_it_passes_the_provider_override_to_extraction(org):
    email = queued()
    decision = ProcessingDecision(allowed=True, provider_override="rules")
    with (
        mock.patch("events.processing.processing_decide_and_notify", return_value=decision),
        mock.patch("events.processing.extract", autospec=True, return_value=extraction()) as extract,
    ):
        email_process(schema_name=org.schema_name, email_id=email.pk)
    assert extract.call_args.kwargs == {"provider": "rules"}


def test_a_transient_error_is_retried_with_backoff_then_fails(org):
    email = queued()
    billed = [Usage(provider="anthropic", model="m", input_tokens=10, cost_usd=Decimal("0.001"))]
    error = RetryableExtractionError("overloaded", usage=billed)
    delays = []
    with mock.patch("events.processing.extract", autospec=True, side_effect=error):
        for _ in range(MAX_ATTEMPTS):
            result = email_process(schema_name=org.schema_name, email_id=email.pk)
            delays.append(result.retry_in)
    email.refresh_from_db()
    assert delays[:-1] == [60, 300, 1800][: MAX_ATTEMPTS - 1]
    assert delays[-1] is None
    assert email.state == EmailState.FAILED
    assert email.state_reason.startswith(f"Failed after {MAX_ATTEMPTS} attempts")
    assert UsageRecord.objects.filter(organization=org, email_code=email.code).count() == MAX_ATTEMPTS


def test_a_permanent_error_fails_at_once_and_keeps_the_billed_usage(org):
    email = queued()
    error = PermanentExtractionError("refused", usage=[Usage(provider="anthropic", output_tokens=5)])
    with mock.patch("events.processing.extract", autospec=True, side_effect=error):
        result = email_process(schema_name=org.schema_name, email_id=email.pk)
    assert result.state == EmailState.FAILED
    assert "refused" in result.reason
    assert UsageRecord.objects.get(organization=org).output_tokens == 5


def test_an_unexpected_crash_in_extraction_marks_the_email_failed(org):
    email = queued()
    with mock.patch("events.processing.extract", autospec=True, side_effect=ZeroDivisionError):
        result = email_process(schema_name=org.schema_name, email_id=email.pk)
    assert result.state == EmailState.FAILED
    assert "ZeroDivisionError" in result.reason


def test_it_holds_the_email_when_a_new_project_does_not_fit_the_plan(org):
    email = queued()
    with (
        mock.patch("events.processing.extract", autospec=True, return_value=extraction()),
        mock.patch(
            "events.processing.extraction_apply_in_transaction",
            side_effect=ProjectLimitReached("2 projects on Starter"),
        ),
    ):
        result = email_process(schema_name=org.schema_name, email_id=email.pk)
    assert result.state == EmailState.HELD
    assert result.reason == "Project limit: 2 projects on Starter"
    assert UsageRecord.objects.filter(organization=org).count() == 1


def test_applying_stores_the_project_it_chose(org):
    from tests.factories import ProjectFactory

    email, project = queued(), ProjectFactory()
    applied = ApplyResult(project=project, created_events=[], updated_events=[])
    with (
        mock.patch("events.processing.extract", autospec=True, return_value=extraction()),
        mock.patch("events.processing.extraction_apply_in_transaction", return_value=applied),
    ):
        email_process(schema_name=org.schema_name, email_id=email.pk)
    email.refresh_from_db()
    assert email.project == project


def test_a_stale_processing_email_is_requeued_and_then_processed_once(org):
    email = queued()
    assert email_claim(email.pk)  # the worker took it, then died
    Email.objects.filter(pk=email.pk).update(state_changed_at=timezone.now() - timedelta(hours=1))
    fresh = queued()
    email_claim(fresh.pk)
    assert stale_processing_requeue(older_than=timedelta(minutes=10)) == [email.pk]
    with mock.patch("events.processing.extract", autospec=True, return_value=extraction()) as extract:
        first = email_process(schema_name=org.schema_name, email_id=email.pk)
        second = email_process(schema_name=org.schema_name, email_id=email.pk)
    assert (first.state, second.state) == (EmailState.PROCESSED, "skipped")
    assert extract.call_count == 1
    fresh.refresh_from_db()
    assert fresh.state == EmailState.PROCESSING


def test_a_message_that_keeps_killing_workers_ends_failed(org):
    email = queued()
    Email.objects.filter(pk=email.pk).update(
        state=EmailState.PROCESSING, attempts=MAX_ATTEMPTS, state_changed_at=timezone.now() - timedelta(hours=1)
    )
    assert stale_processing_requeue(older_than=timedelta(minutes=10)) == []
    email.refresh_from_db()
    assert email.state == EmailState.FAILED


@pytest.mark.parametrize("state", [EmailState.FAILED, EmailState.HELD, EmailState.PROCESSED, EmailState.IGNORED])
def test_reprocessing_requeues_a_settled_email(org, state, django_capture_on_commit_callbacks):
    email = EmailFactory(state=state, attempts=3)
    with (
        mock.patch("events.enqueue.async_task") as async_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert email_reprocess(schema_name=org.schema_name, email_id=email.pk) is True
    email.refresh_from_db()
    assert (email.state, email.attempts) == (EmailState.QUEUED, 0)
    assert async_task.call_args.args == ("events.tasks.email_process_task", org.schema_name, email.pk)


def test_reprocessing_leaves_a_pending_email_alone(org):
    email = queued()
    assert email_reprocess(schema_name=org.schema_name, email_id=email.pk) is False


def test_reprocessing_all_failed_and_held_mail(org):
    failed, held, done = (EmailFactory(state=s) for s in (EmailState.FAILED, EmailState.HELD, EmailState.PROCESSED))
    with mock.patch("events.enqueue.async_task"):
        moved = emails_reprocess(schema_name=org.schema_name, states=(EmailState.FAILED, EmailState.HELD))
    assert sorted(moved) == sorted([failed.pk, held.pk])
    done.refresh_from_db()
    assert done.state == EmailState.PROCESSED


def test_the_worker_query_count_does_not_grow_with_attachments(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import AttachmentFactory

    def queries(email: Email) -> list[str]:
        with (
            CaptureQueriesContext(connection) as captured,
            mock.patch("events.processing.extract", autospec=True, return_value=extraction()),
        ):
            email_process(schema_name=org.schema_name, email_id=email.pk)
        # search_path is cached per connection (TENANT_LIMIT_SET_CALLS): not a cost of the email.
        return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET search_path")]

    small, big = queued(), queued()
    AttachmentFactory(email=small)
    AttachmentFactory.create_batch(10, email=big)
    queries(queued())  # warm caches that are not per email
    assert len(queries(big)) == len(queries(small)) < 25


def test_extraction_gets_the_attachment_names_the_claim_read(org):
    from tests.factories import AttachmentFactory

    email = queued()
    AttachmentFactory(email=email, filename="plan.pdf")
    AttachmentFactory(email=email, filename="quote.xlsx")
    with mock.patch("events.processing.extract", autospec=True, return_value=extraction()) as extract:
        email_process(schema_name=org.schema_name, email_id=email.pk)

    assert extract.call_args.args[0].attachment_names == ["plan.pdf", "quote.xlsx"]


def test_processing_an_email_again_replaces_the_events_of_its_first_run(org, django_capture_on_commit_callbacks):
    from events.models import Event
    from extraction.types import ExtractedEvent

    def found(title: str) -> Extraction:
        visit = ExtractedEvent(kind="meeting", title=title, date=timezone.localdate(), evidence=title)
        return Extraction(
            project=ProjectDecision(action="new", name="Henderson kitchen", confidence=0.9),
            events=[visit],
            summary=title,
            usage=[Usage(provider="anthropic", model="claude-haiku-5-5")],
            provider="anthropic",
            model="claude-haiku-5-5",
        )

    email = queued()
    with mock.patch("events.processing.extract", autospec=True, return_value=found("Site visit")):
        email_process(schema_name=org.schema_name, email_id=email.pk)
    with django_capture_on_commit_callbacks():
        email_reprocess(schema_name=org.schema_name, email_id=email.pk)  # attempts back to 0, processed_at kept

    with mock.patch("events.processing.extract", autospec=True, return_value=found("Site visit (moved)")):
        email_process(schema_name=org.schema_name, email_id=email.pk)

    assert list(Event.objects.filter(email=email).values_list("title", flat=True)) == ["Site visit (moved)"]


def test_the_model_is_told_the_organizations_name_and_its_members_domains(world):
    email = queued()
    with mock.patch("events.processing.extract", autospec=True, return_value=extraction()) as extract:
        email_process(schema_name=world.org.schema_name, email_id=email.pk)
    context = extract.call_args.args[1]
    assert context.organization_name == world.org.name
    assert "testorg.test" in context.organization_domains
