"""Whose email a worker takes next: every organization with mail waiting gets a turn in each round.

django-q2 has one queue, first in first out, and each cluster prefetches up to workers² tasks
from it: an organization that sends 200 emails put 200 tasks ahead of everybody else's, and
another organization's mail waited for all of them. Each queued email also gets a Turn row;
the task queued with it is a token that says "an email is waiting", and whichever email's
turn it is gets processed when the token runs (events.tasks.email_process_task). The
broker's order, and what its clusters prefetched, no longer decide whose mail goes first.

The order is start-time fair queuing: an organization's next email gets the round after its
previous waiting one, and an organization with nothing waiting gets the round before the one
being served. So an email from a quiet organization is the next one taken, whatever another
organization has queued: it waits at most for one of the emails already being processed, that
is one task's time per worker.

Deliveries of one organization written at the same moment can get the same round (none sees
the others' rows), so in a flood an organization may get as many turns in a round as it had
deliveries in flight (the webhook's concurrency). Another organization's email still gets the
round before the one being served and goes first. Moving such ties to the next round when one
is taken would make every take rewrite a growing share of the flood's backlog (the rows moved
join the organization's rows of the next round, and move again): the soak measured it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL

from config.sql import prepared_cursor, tenant_table
from fairness.models import Turn


@dataclass(frozen=True)
class TurnTaken:
    schema_name: str
    email_id: int


def _names() -> tuple[str, ...]:
    quote = connection.ops.quote_name
    table = tenant_table(Turn, "public")
    columns = {field.name: field.column for field in Turn._meta.concrete_fields}
    fields = ("id", "schema_name", "email_id", "round", "available_at")
    return (table, *(quote(str(columns[name])) for name in fields))


@functools.cache
def _round_sql() -> str:
    table, _, schema, _, round_, available = _names()
    # The round being served: the lowest waiting and due; without one, the last given; else 0.
    current = (
        f"COALESCE((SELECT min({round_}) FROM {table} WHERE {available} <= statement_timestamp()), "  # noqa: S608
        f"(SELECT max({round_}) FROM {table}), 0)"
    )
    # Our model's quoted names; the schema is a parameter.
    return (
        f"(SELECT GREATEST(v.at - 1, COALESCE((SELECT max({round_}) FROM {table} "  # noqa: S608
        f"WHERE {schema} = %s), v.at - 2) + 1) FROM (SELECT {current} AS at) v)"
    )


def turn_row(*, schema_name: str, email_id: int, delay_seconds: int = 0) -> Turn:
    """An email's Turn, unsaved; its round is worked out by the database as the row is written
    (in the webhook's one statement, config.sql.rows_insert, or by `turn_add`)."""
    return Turn(
        schema_name=schema_name,
        email_id=email_id,
        round=RawSQL(_round_sql(), [schema_name]),  # type: ignore[misc]  # noqa: S611 - fixed SQL, bound schema
        # The database's clock, as the take reads it: a web server whose clock runs ahead
        # cannot write a turn that is not yet due.
        available_at=RawSQL("statement_timestamp() + make_interval(secs => %s)", [float(delay_seconds)]),  # type: ignore[misc]
    )


def turn_add(*, schema_name: str, email_id: int, delay_seconds: int = 0) -> None:
    """Give a queued email its turn (a second turn for the same email is not added)."""
    Turn.objects.bulk_create(
        [turn_row(schema_name=schema_name, email_id=email_id, delay_seconds=delay_seconds)], ignore_conflicts=True
    )


@functools.cache
def _take_sql() -> str:
    table, id_, schema, email, round_, available = _names()
    # Our model's quoted names; nothing from input. The take reads the (round, id) index from
    # its start: its cost does not grow with the backlog. Rows another worker is taking are
    # skipped, not waited for.
    return (
        f"WITH picked AS (SELECT {id_} FROM {table} WHERE {available} <= statement_timestamp() "  # noqa: S608
        f"ORDER BY {round_}, {id_} LIMIT 1 FOR UPDATE SKIP LOCKED) "
        f"DELETE FROM {table} WHERE {id_} IN (SELECT {id_} FROM picked) RETURNING {schema}, {email}"
    )


def turn_take() -> TurnTaken | None:
    """The next due turn in fair order, removed; None when no turn is due."""
    with prepared_cursor() as cursor:
        cursor.execute(_take_sql())
        row = cursor.fetchone()
    return None if row is None else TurnTaken(schema_name=str(row[0]), email_id=int(row[1]))
