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

A turn is taken as a lease, not removed: the take pushes its `available_at` past the task's
timeout, and the turn is released once its email was claimed and processed (or found taken).
A worker killed between the take and the claim, or a take whose processing raised, leaves the
turn to come due again when the lease ends: removed at once, such a turn was lost with its
email (the soak's SIGKILLs left hundreds of emails queued with no turn and no task).

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
from datetime import datetime

from django.db import connection
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now

from config.sql import prepared_cursor, tenant_table
from fairness.models import Turn


@dataclass(frozen=True)
class TurnTaken:
    id: int
    schema_name: str
    email_id: int
    # The lease's end as the take wrote it: releasing checks it, so a turn given again
    # meanwhile (a retry's, `turn_add`) is not released with the taken one.
    leased_until: datetime


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
    """Give a queued email its turn. An email has one turn: queued again, its turn keeps its
    round and becomes due when this one says (a retry's later time, or a taken turn's lease
    ended early because its email is queued anew)."""
    Turn.objects.bulk_create(
        [turn_row(schema_name=schema_name, email_id=email_id, delay_seconds=delay_seconds)],
        update_conflicts=True,
        unique_fields=["schema_name", "email_id"],
        update_fields=["available_at"],
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
        f"UPDATE {table} SET {available} = statement_timestamp() + make_interval(secs => %s::float8) "
        f"WHERE {id_} IN (SELECT {id_} FROM picked) RETURNING {id_}, {schema}, {email}, {available}"
    )


@functools.cache
def _release_sql() -> str:
    table, id_, _, _, _, available = _names()
    return f"DELETE FROM {table} WHERE {id_} = %s::bigint AND {available} = %s::timestamptz"  # noqa: S608


def turn_take(*, lease_seconds: float) -> TurnTaken | None:
    """The next due turn in fair order, leased for `lease_seconds` (release it with
    `turn_release` once its email is dealt with); None when no turn is due."""
    with prepared_cursor() as cursor:
        cursor.execute(_take_sql(), [float(lease_seconds)])
        row = cursor.fetchone()
    if row is None:
        return None
    return TurnTaken(id=int(row[0]), schema_name=str(row[1]), email_id=int(row[2]), leased_until=row[3])


def turn_release(turn: TurnTaken) -> None:
    """The taken turn is spent: its email was processed, or taken by another worker. A turn
    given again since the take (queued anew) stays."""
    with prepared_cursor() as cursor:
        cursor.execute(_release_sql(), [turn.id, turn.leased_until])


def turns_due(*, limit: int) -> list[tuple[str, int]]:
    """Up to `limit` turns due now, in the order they will be taken: (schema name, email id)."""
    due = Turn.objects.filter(available_at__lte=Now()).order_by("round", "id")
    return [(str(schema), int(email)) for schema, email in due.values_list("schema_name", "email_id")[:limit]]


def turn_due_count() -> int:
    return Turn.objects.filter(available_at__lte=Now()).count()
