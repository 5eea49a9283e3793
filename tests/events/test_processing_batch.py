"""The batch path: many queued emails of one organization through a pool of threads.

Threads have their own database connections, which cannot see the rolled-back transaction
of an ordinary test, so this module commits its rows in a workspace of its own ("batchorg")
and deletes them again after every test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from billing.models import LimitNotice
from events.batch import emails_process_batch, emails_process_batch_task, queued_email_ids
from events.models import Email, EmailLog, EmailState, Event
from events.processing import email_process
from extraction.types import Extraction, ProjectDecision, RetryableExtractionError, Usage
from organizations.models import Organization
from projects.models import Project
from projects.services import PROJECT_CREATION_LOCK
from tests.conftest import _get_or_create_org
from tests.factories import EmailFactory
from usage.models import UsageRecord


@pytest.fixture(scope="session", autouse=True)
def _test_database(
    django_db_setup: Any, django_db_blocker: Any, django_db_keepdb: bool, django_db_createdb: bool
) -> Iterator[None]:
    """The test database, set up here when pytest-django did not.

    pytest-django sets it up only when a selected test asks for `db` (or the django_db mark),
    and none here may: their rows must be committed for the threads to see them. Run alone,
    this module would otherwise find no test database. tests/browser/conftest.py does the same.
    """
    creation = connection.creation
    if connection.settings_dict["NAME"] == creation._get_test_db_name():
        yield
        return
    old_name = connection.settings_dict["NAME"]
    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keepdb, serialize=False)
    yield
    with django_db_blocker.unblock():
        creation.destroy_test_db(old_name, verbosity=0, keepdb=keepdb)


@pytest.fixture
def batch_org(session_orgs: Any, django_db_blocker: Any) -> Iterator[Organization]:
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        organization = _get_or_create_org("batchorg", "Batch Org")
        yield organization
        connection.set_schema_to_public()
        with schema_context(organization.schema_name):
            EmailLog.objects.all().delete()
            Event.objects.all().delete()
            Email.objects.all().delete()
            Project.objects.all().delete()
        UsageRecord.objects.filter(organization=organization).delete()


def queue(organization: Organization, count: int, **kwargs: Any) -> list[int]:
    with schema_context(organization.schema_name):
        return [EmailFactory(state=EmailState.QUEUED, project=None, **kwargs).pk for _ in range(count)]


def extraction() -> Extraction:
    return Extraction(
        project=ProjectDecision(action="none"),
        events=[],
        summary="Noted",
        usage=[Usage(provider="anthropic", model="claude-haiku-5-5", input_tokens=900)],
        provider="anthropic",
        model="claude-haiku-5-5",
    )


class SlowExtract:
    """Stands in for a model call that waits on the network; remembers how many overlapped.

    With `hold_until`, every call waits until that many calls are in flight at once (or 20 s
    pass), so the overlap does not depend on how fast a loaded machine claims emails.
    """

    def __init__(self, seconds: float = 0.2, hold_until: int | None = None) -> None:
        self.seconds = seconds
        self.hold_until = hold_until
        self.reached = threading.Event()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.threads: set[int] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> Extraction:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.threads.add(threading.get_ident())
            if self.hold_until is not None and self.in_flight >= self.hold_until:
                self.reached.set()
        if self.hold_until is not None:
            self.reached.wait(timeout=20)
        else:
            time.sleep(self.seconds)
        with self.lock:
            self.in_flight -= 1
        return extraction()


def test_it_processes_every_queued_email_with_the_real_default_provider(batch_org):
    ids = queue(batch_org, 5)
    # Three threads may each start a project for the first emails before any of them commits
    # (the rules name a project after a subject, here all different); Starter allows two.
    Organization.objects.filter(pk=batch_org.pk).update(custom_project_limit=5)
    try:
        result = emails_process_batch(schema_name=batch_org.schema_name, concurrency=3)
    finally:
        Organization.objects.filter(pk=batch_org.pk).update(custom_project_limit=None)
    with schema_context(batch_org.schema_name):
        reasons = list(Email.objects.filter(pk__in=ids).exclude(state=EmailState.PROCESSED).values_list("state_reason"))
    assert result.states == {EmailState.PROCESSED: 5}, reasons
    with schema_context(batch_org.schema_name):
        assert set(Email.objects.filter(pk__in=ids).values_list("state", flat=True)) == {EmailState.PROCESSED}
        assert EmailLog.objects.filter(email_id__in=ids, state=EmailState.PROCESSED).count() == 5
        codes = set(Email.objects.filter(pk__in=ids).values_list("code", flat=True))
    # Threads creating the same new project at once: the loser is processed again, so an email
    # may have two usage rows, and none is left failed.
    assert set(UsageRecord.objects.filter(organization=batch_org).values_list("email_code", flat=True)) == codes


def test_it_keeps_sixteen_ai_calls_in_flight_at_once(batch_org):
    queue(batch_org, 32)
    slow = SlowExtract(hold_until=16)
    with mock.patch("events.processing.extract", side_effect=slow):
        result = emails_process_batch(schema_name=batch_org.schema_name, concurrency=16)
    assert result.states == {EmailState.PROCESSED: 32}
    assert slow.peak == 16
    assert len(slow.threads) == 16


def test_only_two_threads_do_database_work_at_once_while_the_calls_overlap(batch_org):
    from events import processing

    queue(batch_org, 16)
    real_claim, lock, working, peak = processing._claim_row, threading.Lock(), [0], [0]

    def claim(email_id: int) -> Any:
        with lock:
            working[0] += 1
            peak[0] = max(peak[0], working[0])
        try:
            time.sleep(0.02)  # long enough for every thread to be here at once if it could
            return real_claim(email_id)
        finally:
            with lock:
                working[0] -= 1

    slow = SlowExtract(hold_until=8)
    with (
        mock.patch("events.processing._claim_row", side_effect=claim),
        mock.patch("events.processing.extract", side_effect=slow),
    ):
        result = emails_process_batch(schema_name=batch_org.schema_name, concurrency=8)

    assert result.states == {EmailState.PROCESSED: 16}
    assert peak[0] == processing.WORK_SLOTS == 2
    assert slow.peak == 8


def test_its_default_concurrency_comes_from_the_settings(batch_org, settings):
    settings.PROJECTR_AI_CONCURRENCY = 4
    queue(batch_org, 8)
    slow = SlowExtract(hold_until=4)
    with mock.patch("events.processing.extract", side_effect=slow):
        emails_process_batch(schema_name=batch_org.schema_name)
    assert slow.peak == 4


def test_each_email_is_processed_once_when_two_batches_race(batch_org):
    ids = queue(batch_org, 20)
    slow = SlowExtract(seconds=0.05)
    with mock.patch("events.processing.extract", side_effect=slow):
        batches = [
            threading.Thread(
                target=emails_process_batch, kwargs={"schema_name": batch_org.schema_name, "email_ids": ids}
            )
            for _ in range(2)
        ]
        for batch in batches:
            batch.start()
        for batch in batches:
            batch.join()
    with schema_context(batch_org.schema_name):
        assert EmailLog.objects.filter(email_id__in=ids, state=EmailState.PROCESSING).count() == 20
        assert set(Email.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
    assert UsageRecord.objects.filter(organization=batch_org).count() == 20


def test_it_takes_the_oldest_queued_emails_up_to_the_limit_and_leaves_retries_to_their_task(batch_org):
    ids = queue(batch_org, 3)
    queue(batch_org, 1, attempts=1)
    queue(batch_org, 1, state_reason="done")  # queued but then processed below
    with schema_context(batch_org.schema_name):
        Email.objects.filter(state_reason="done").update(state=EmailState.PROCESSED)
    assert queued_email_ids(schema_name=batch_org.schema_name, limit=2) == ids[:2]
    assert queued_email_ids(schema_name=batch_org.schema_name, limit=10) == ids


def test_the_task_schedules_a_retry_for_a_transient_failure(batch_org):
    [email_id] = queue(batch_org, 1)
    with (
        mock.patch("events.processing.extract", side_effect=RetryableExtractionError("overloaded")),
        mock.patch("events.batch.email_enqueue", autospec=True) as enqueue,
    ):
        states = emails_process_batch_task(batch_org.schema_name)
    assert states == {EmailState.QUEUED: 1}
    enqueue.assert_called_once_with(schema_name=batch_org.schema_name, email_id=email_id, delay_seconds=60)


def test_a_crash_outside_the_service_is_counted_and_the_other_emails_go_on(batch_org):
    ids = queue(batch_org, 3)
    real = __import__("events.processing", fromlist=["email_process"]).email_process

    def flaky(*, schema_name: str, email_id: int, **kwargs: Any) -> Any:
        if email_id == ids[0]:
            raise RuntimeError("database went away")
        return real(schema_name=schema_name, email_id=email_id, **kwargs)

    with mock.patch("events.batch.email_process", side_effect=flaky):
        result = emails_process_batch(schema_name=batch_org.schema_name, concurrency=2)
    assert result.states == {"crashed": 1, EmailState.PROCESSED: 2}


def test_the_command_drains_every_queue_once(batch_org, capsys):
    queue(batch_org, 4)
    call_command("process_emails", "--once", "--org", "batchorg")
    assert "Processed 4 emails" in capsys.readouterr().out
    with schema_context(batch_org.schema_name):
        assert not Email.objects.filter(state=EmailState.QUEUED).exists()


def test_the_batch_holds_the_emails_over_the_plans_email_limit(batch_org):
    Organization.objects.filter(pk=batch_org.pk).update(custom_email_limit=3)
    ids = queue(batch_org, 5)
    try:
        with mock.patch("events.processing.extract", autospec=True, side_effect=lambda *a, **k: extraction()):
            # One thread: which of two racing threads gets the last place is not the point here.
            result = emails_process_batch(schema_name=batch_org.schema_name, email_ids=ids, concurrency=1)
    finally:
        Organization.objects.filter(pk=batch_org.pk).update(custom_email_limit=None)
        LimitNotice.objects.filter(organization=batch_org).delete()  # committed: sent at 80 and 100 %

    assert result.states == {EmailState.PROCESSED: 3, EmailState.HELD: 2}
    with schema_context(batch_org.schema_name):
        held = Email.objects.filter(pk__in=ids, state=EmailState.HELD).values_list("state_reason", flat=True)
        assert all(reason.startswith("Plan limit: The plan's limit of 3 emails") for reason in held)


def test_threads_racing_for_the_last_places_of_the_email_limit_take_no_more_than_are_left(batch_org):
    Organization.objects.filter(pk=batch_org.pk).update(custom_email_limit=3)
    ids = queue(batch_org, 8)
    # The three allowed calls stay in flight until all three have started, so the other
    # threads decide while nothing of theirs is in the ledger yet.
    slow = SlowExtract(hold_until=3)
    try:
        with mock.patch("events.processing.extract", side_effect=slow):
            result = emails_process_batch(schema_name=batch_org.schema_name, email_ids=ids, concurrency=8)
    finally:
        Organization.objects.filter(pk=batch_org.pk).update(custom_email_limit=None)
        LimitNotice.objects.filter(organization=batch_org).delete()

    assert result.states == {EmailState.PROCESSED: 3, EmailState.HELD: 5}


def test_every_thread_tells_the_model_the_organizations_name(batch_org):
    queue(batch_org, 4)
    names: set[str] = set()

    def record(email_input: Any, context: Any, **kwargs: Any) -> Extraction:
        names.add(context.organization_name)
        return extraction()

    with mock.patch("events.processing.extract", side_effect=record):
        emails_process_batch(schema_name=batch_org.schema_name, concurrency=2)
    assert names == {batch_org.name}


# Two workers creating projects at once. The first worker's transaction is held open right after
# it applied (its new project not yet committed) until the second worker waits on the creation
# lock (projects.services.project_get_or_create); then it commits.


def proposal(name: str) -> Extraction:
    return Extraction(
        project=ProjectDecision(action="new", name=name, client_name="Henderson", confidence=0.9),
        events=[],
        summary="Noted",
        usage=[Usage(provider="anthropic", model="claude-haiku-5-5", input_tokens=900)],
        provider="anthropic",
        model="claude-haiku-5-5",
    )


def race(organization: Organization, first: int, second: int, names: dict[str, str]) -> dict[int, Any]:
    """Process `first` and `second` in two threads, the second creating its project while the
    first's creation is not committed; `names` maps each email's subject to the proposed name."""
    from events import processing

    real_apply = processing.extraction_apply_in_transaction
    applied, release = threading.Event(), threading.Event()
    results: dict[int, Any] = {}

    def apply(**kwargs: Any) -> Any:
        result = real_apply(**kwargs)
        if kwargs["email"].pk == first:
            applied.set()
            release.wait(timeout=20)
        return result

    def work(email_id: int) -> None:
        try:
            if email_id == second:
                applied.wait(timeout=20)
            results[email_id] = email_process(schema_name=organization.schema_name, email_id=email_id)
        finally:
            connection.close()

    def waiting_on_the_creation_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND classid = %s AND objid = %s",
                [PROJECT_CREATION_LOCK, organization.pk],
            )
            return bool(cursor.fetchone()[0])

    threads = [threading.Thread(target=work, args=(email_id,)) for email_id in (first, second)]
    with (
        mock.patch("events.processing.extract", side_effect=lambda email, *a, **k: proposal(names[email.subject])),
        mock.patch("events.processing.extraction_apply_in_transaction", side_effect=apply),
    ):
        for thread in threads:
            thread.start()
        try:
            assert applied.wait(timeout=20)
            deadline = time.monotonic() + 20
            while not waiting_on_the_creation_lock():
                assert time.monotonic() < deadline, "the second worker never waited for the first's creation"
                time.sleep(0.01)
        finally:
            release.set()
            for thread in threads:
                thread.join(timeout=30)
    return results


def test_two_workers_creating_the_same_new_project_at_once_file_both_emails_in_it(batch_org):
    [first] = queue(batch_org, 1, subject="Henderson kitchen")
    [second] = queue(batch_org, 1, subject="Re: Henderson kitchen")
    results = race(
        batch_org,
        first,
        second,
        {"Henderson kitchen": "Henderson kitchen", "Re: Henderson kitchen": "Henderson kitchen"},
    )

    assert {r.state for r in results.values()} == {EmailState.PROCESSED}
    with schema_context(batch_org.schema_name):
        [project] = Project.objects.all()
        assert (project.name, project.slug) == ("Henderson kitchen", "henderson-kitchen")
        assert set(Email.objects.values_list("project_id", flat=True)) == {project.pk}


def test_two_workers_racing_for_the_plans_last_project_create_only_one(batch_org):
    Organization.objects.filter(pk=batch_org.pk).update(custom_project_limit=1)
    [first] = queue(batch_org, 1, subject="Alpha")
    [second] = queue(batch_org, 1, subject="Beta")
    try:
        results = race(batch_org, first, second, {"Alpha": "Alpha house", "Beta": "Beta barn"})
    finally:
        Organization.objects.filter(pk=batch_org.pk).update(custom_project_limit=None)

    assert (results[first].state, results[second].state) == (EmailState.PROCESSED, EmailState.HELD)
    assert results[second].reason == "Project limit: the plan allows 1 open projects"
    with schema_context(batch_org.schema_name):
        assert list(Project.objects.values_list("name", flat=True)) == ["Alpha house"]
