"""What the soak needed from the pipeline: configurable waits and no email left without a task."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.utils import timezone

from events.models import Email, EmailLog, EmailState
from events.processing import email_process, queued_orphans_touch, retry_delay
from events.tasks import orphan_after, stale_after, stale_requeue_task
from extraction.types import RetryableExtractionError
from tests.factories import EmailFactory


def test_it_takes_the_retry_waits_from_settings(settings):
    settings.PROJECTR_RETRY_DELAYS = [2, 4, 8]

    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 8]


def test_a_transient_error_waits_the_configured_delay(org, settings):
    settings.PROJECTR_RETRY_DELAYS = [3]
    email = EmailFactory(state=EmailState.QUEUED, project=None)
    with mock.patch("events.processing.extract", autospec=True, side_effect=RetryableExtractionError("529")):
        result = email_process(schema_name=org.schema_name, email_id=email.pk)

    assert result.retry_in == 3


def test_it_takes_the_stale_threshold_from_settings_and_waits_the_longest_retry_before_orphans(settings):
    settings.PROJECTR_STALE_PROCESSING_SECONDS = 45
    settings.PROJECTR_RETRY_DELAYS = [2, 4, 8]

    assert stale_after() == timedelta(seconds=45)
    assert orphan_after() == timedelta(seconds=53)


def test_the_default_stale_threshold_is_beyond_the_task_timeout(settings):
    settings.PROJECTR_STALE_PROCESSING_SECONDS = 0

    assert stale_after() >= timedelta(seconds=600)


def test_it_finds_queued_mail_whose_task_was_lost_and_leaves_fresh_mail(org):
    old = EmailFactory(state=EmailState.QUEUED, project=None, state_changed_at=timezone.now() - timedelta(hours=2))
    fresh = EmailFactory(state=EmailState.QUEUED, project=None, state_changed_at=timezone.now())
    done = EmailFactory(state=EmailState.PROCESSED, state_changed_at=timezone.now() - timedelta(days=1))

    ids = queued_orphans_touch(older_than=timedelta(hours=1))

    assert ids == [old.pk]
    old.refresh_from_db()
    assert old.state == EmailState.QUEUED
    assert old.state_changed_at > timezone.now() - timedelta(minutes=1)
    assert EmailLog.objects.filter(email=old, message="Re-queued: its task was lost").count() == 1
    assert not EmailLog.objects.filter(email__in=[fresh, done]).exists()
    # Touched: the next sweep leaves it alone until another `older_than` has passed.
    assert queued_orphans_touch(older_than=timedelta(hours=1)) == []


def test_the_sweep_enqueues_lost_and_stale_mail(org, settings, django_capture_on_commit_callbacks):
    settings.PROJECTR_STALE_PROCESSING_SECONDS = 60
    settings.PROJECTR_RETRY_DELAYS = [10]
    long_ago = timezone.now() - timedelta(minutes=10)
    lost = EmailFactory(state=EmailState.QUEUED, project=None, state_changed_at=long_ago)
    stale = EmailFactory(state=EmailState.PROCESSING, project=None, state_changed_at=long_ago, attempts=1)

    with (
        mock.patch("events.enqueue.email_enqueue", autospec=True) as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        moved = stale_requeue_task()

    assert moved == 2
    enqueued = sorted(call.kwargs["email_id"] for call in enqueue.call_args_list)
    assert enqueued == sorted([lost.pk, stale.pk])
    assert Email.objects.get(pk=stale.pk).state == EmailState.QUEUED


def test_the_sweep_leaves_old_queued_mail_alone_while_the_broker_has_a_backlog(
    org, settings, django_capture_on_commit_callbacks
):
    settings.PROJECTR_STALE_PROCESSING_SECONDS = 60
    settings.PROJECTR_RETRY_DELAYS = [10]
    waiting = EmailFactory(state=EmailState.QUEUED, project=None, state_changed_at=timezone.now() - timedelta(hours=1))

    with (
        mock.patch("events.tasks.get_broker", autospec=True) as get_broker,
        mock.patch("events.enqueue.email_enqueue", autospec=True) as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        get_broker.return_value.queue_size.return_value = 250
        moved = stale_requeue_task()

    assert moved == 0
    enqueue.assert_not_called()
    assert Email.objects.get(pk=waiting.pk).state_reason != "Re-queued: its task was lost"
