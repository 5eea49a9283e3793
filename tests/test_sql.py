"""config.sql: rows of several models, tenant and public, in one statement (rows_insert);
statements named with their schema and prepared on the server (tenant_table, prepared_cursor)."""

from __future__ import annotations

import django
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from config.sql import DJANGO_TESTED, prepared_cursor, rows_insert, tenant_table
from events.ingest import email_id_sql
from events.models import Email, EmailLog, Event, EventHistory
from inbound.models import Delivery, Verdict
from tests.factories import EmailFactory, ProjectFactory


def test_the_django_internals_it_relies_on_were_checked_with_this_django_version():
    # config/sql.py lists the internals it touches; a new minor version may change any of them.
    version = f"{django.VERSION[0]}.{django.VERSION[1]}"
    assert version in DJANGO_TESTED, f"re-check config/sql.py's Django internals on {version}, then list it"


def test_rows_of_three_models_are_written_in_one_statement_with_their_keys(org):
    email = EmailFactory.build(pk=None)
    email.pk = Email.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    email.pk += 1000
    logs = [EmailLog(email=email, state="queued", message=f"log {n}") for n in range(3)]
    delivery = Delivery(provider="postmark", verdict=Verdict.ACCEPTED, organization=org, email_code=email.code)
    with CaptureQueriesContext(connection) as queries:
        rows_insert([email], logs, [delivery])
    assert len(queries.captured_queries) == 1
    assert [log.message for log in EmailLog.objects.filter(email=email).order_by("pk")] == ["log 0", "log 1", "log 2"]
    assert [log.pk for log in logs] == sorted(log.pk for log in logs)
    assert EmailLog.objects.get(pk=logs[2].pk).message == "log 2"
    assert Delivery.objects.get(pk=delivery.pk).email_code == email.code
    assert not email._state.adding and not delivery._state.adding


def test_field_defaults_and_auto_now_add_apply_as_with_save(org):
    email = EmailFactory()
    log = EmailLog(email=email, state="queued")
    rows_insert([log])
    stored = EmailLog.objects.get(pk=log.pk)
    assert stored.at is not None and stored.at == log.at
    assert stored.message == ""


def test_a_failing_statement_leaves_every_instance_unsaved(org):
    existing = EmailFactory(message_id="<taken@client.test>")
    fresh = EmailFactory.build(pk=None, message_id="<fresh@client.test>")
    fresh.pk = existing.pk + 1000
    clash = EmailFactory.build(pk=None, message_id="<taken@client.test>")
    clash.pk = existing.pk + 1001
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert([fresh], [clash])
    assert not Email.objects.filter(message_id="<fresh@client.test>").exists()
    assert fresh._state.adding


def test_nothing_to_write_runs_no_statement(org):
    with CaptureQueriesContext(connection) as queries:
        rows_insert([], [])
    assert queries.captured_queries == []


def test_a_row_pointing_to_an_unsaved_row_of_an_earlier_group_gets_its_new_key(org):
    project = ProjectFactory()
    events = [Event(project=project, kind="meeting", title=f"Meeting {n}") for n in range(2)]
    histories = [EventHistory(event=event, action="created") for event in reversed(events)]
    with CaptureQueriesContext(connection) as queries:
        rows_insert(events, histories)
    assert len(queries.captured_queries) == 1
    assert [h.event_id for h in histories] == [events[1].pk, events[0].pk]
    assert [EventHistory.objects.get(pk=h.pk).event.title for h in histories] == ["Meeting 1", "Meeting 0"]


def test_a_failed_statement_leaves_the_links_unset(org):
    event = Event(project=ProjectFactory(), kind="meeting", title="Kickoff")
    history = EventHistory(event=event, action="created")
    clash = EmailFactory.build(pk=None, message_id=EmailFactory().message_id)
    clash.pk = 10**9
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert([event], [history], [clash])
    assert event.pk is None and history.event_id is None


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_tenant_model_is_named_with_the_organizations_schema_and_a_shared_one_with_public(org):
    assert tenant_table(Email, org.schema_name) == f'"{org.schema_name}"."events_email"'
    assert tenant_table(Delivery, org.schema_name) == '"public"."inbound_delivery"'


def test_with_a_schema_the_rows_go_to_its_tables_whatever_the_search_path(org, other_org):
    email = EmailFactory.build(pk=None, message_id="<elsewhere@client.test>")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {email_id_sql(other_org.schema_name)}")
            email.pk = cursor.fetchone()[0]
        log = EmailLog(email=email, state="queued", message="Received")
        with CaptureQueriesContext(connection) as queries:
            rows_insert([email], [log], schema_name=other_org.schema_name)
    # The connection is on `org`'s schema; the rows are in `other_org`'s.
    assert not Email.objects.filter(message_id="<elsewhere@client.test>").exists()
    with schema_context(other_org.schema_name):
        assert EmailLog.objects.get(pk=log.pk).email.message_id == "<elsewhere@client.test>"
    assert len(queries.captured_queries) == 1
    assert f'INSERT INTO "{other_org.schema_name}"."events_email"' in queries.captured_queries[0]["sql"]
    assert any(f'"{other_org.schema_name}"."events_emaillog"' in sql for sql in _prepared_statements())


def test_a_prepared_cursor_prepares_its_statement_once_and_binds_values_on_the_server(org):
    query = "SELECT count(*) FROM public.inbound_delivery WHERE provider = %s AND size >= %s"
    for provider in ("postmark", "amazon_ses"):
        with prepared_cursor() as cursor:
            cursor.execute(query, [provider, 0])
            assert cursor.fetchone() == (0,)
    prepared = [sql for sql in _prepared_statements() if "inbound_delivery WHERE provider" in sql]
    assert prepared == [query.replace("%s", "$1", 1).replace("%s", "$2", 1)]


def test_without_prepared_statements_the_cursor_binds_on_the_server_and_prepares_nothing(org):
    threshold = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None  # what DATABASE_PREPARED_STATEMENTS=false sets
    try:
        with prepared_cursor() as cursor:
            cursor.execute("SELECT %s::int + 1 AS unprepared", [41])
            assert cursor.fetchone() == (42,)
    finally:
        connection.connection.prepare_threshold = threshold
    assert not [sql for sql in _prepared_statements() if "unprepared" in sql]


def test_a_prepared_cursors_statements_are_seen_by_django_query_logging(org):
    with CaptureQueriesContext(connection) as queries, prepared_cursor() as cursor:
        cursor.execute("SELECT %s::text AS logged", ["yes"])
    assert queries.captured_queries[0]["sql"] == "SELECT %s::text AS logged"


def test_a_statement_prepared_on_one_organizations_search_path_reads_the_others_tables_on_theirs(org, other_org):
    with schema_context(org.schema_name):
        EmailFactory(message_id="<ours@path.test>")
    with schema_context(other_org.schema_name):
        EmailFactory(message_id="<theirs@path.test>")
    query = "SELECT message_id FROM events_email WHERE message_id LIKE %s ORDER BY id"

    def read(organization):
        with schema_context(organization.schema_name), prepared_cursor(on_search_path=True) as cursor:
            cursor.execute(query, ["%@path.test>"])
            return [row[0] for row in cursor.fetchall()]

    # Past PostgreSQL's fifth run the plan is generic and cached: it must still follow the path.
    assert [read(org) for _ in range(6)] == [["<ours@path.test>"]] * 6
    assert read(other_org) == ["<theirs@path.test>"]
    assert read(org) == ["<ours@path.test>"]
    assert [sql for sql in _prepared_statements() if "@path.test" in sql or "LIKE $1" in sql] == [
        query.replace("%s", "$1")
    ]
