"""Figures read across every organization's schema, for /healthz and /metrics.

One UNION ALL query over the organizations' `events_email` tables, rather than one query per
schema: a few thousand organizations stay one round trip. Schema names come from the
Organization table and are quoted as identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone
from psycopg import sql

from organizations.models import Organization


@dataclass(frozen=True)
class QueueFigures:
    states: dict[str, int] = field(default_factory=dict)  # emails per state, all organizations
    oldest_queued_at: datetime | None = None

    @property
    def depth(self) -> int:
        return self.states.get("queued", 0) + self.states.get("processing", 0)

    def oldest_age_seconds(self, now: datetime | None = None) -> float:
        if self.oldest_queued_at is None:
            return 0.0
        return max(0.0, ((now or timezone.now()) - self.oldest_queued_at).total_seconds())


def _schemas() -> list[str]:
    return list(
        Organization.objects.filter(is_template=False)
        .exclude(schema_name="public")
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )


def queue_figures() -> QueueFigures:
    """Emails per state and the oldest queued one, across every organization (public schema)."""
    schemas = _schemas()
    if not schemas:
        return QueueFigures()
    parts = [
        sql.SQL(
            "SELECT state, count(*) AS n, min(CASE WHEN state = 'queued' THEN coalesce(state_changed_at, received_at) END) AS oldest "
            "FROM {}.events_email GROUP BY state"
        ).format(sql.Identifier(schema))
        for schema in schemas
    ]
    query = sql.SQL("SELECT state, sum(n)::bigint, min(oldest) FROM ({}) AS per_schema GROUP BY state").format(
        sql.SQL(" UNION ALL ").join(parts)
    )
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection))  # type: ignore[arg-type]
        rows = cursor.fetchall()
    states = {state: int(n) for state, n, _ in rows}
    oldest = min((row[2] for row in rows if row[2] is not None), default=None)
    return QueueFigures(states=states, oldest_queued_at=oldest)
