"""Fixed-window counters in PostgreSQL: one statement per hit, with or without Redis.

Django's database cache counts with a transaction of reads and writes (add, then incr: about
eight statements with its cull check), which is why the per-organization webhook limit used
to be off without Redis. Here one upsert on an UNLOGGED row counts the hit and returns the
count; concurrent hits of one key queue on that row's lock for the length of one statement,
so the count is exact across processes (BENCHMARKS.md, "Per-organization limits").
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from django.db import connection

from config.sql import prepared_cursor, tenant_table
from fairness.models import RateCount


@dataclass(frozen=True)
class Hit:
    over: bool  # this hit is beyond the limit
    retry_after: int  # seconds until the window ends


@functools.cache
def _hit_sql() -> str:
    table = tenant_table(RateCount, "public")
    quote = connection.ops.quote_name
    columns = {field.name: field.column for field in RateCount._meta.concrete_fields}
    key, period, hits = (quote(str(columns[name])) for name in ("key", "period", "hits"))
    # Our model's quoted names; the key and the window are parameters.
    return (
        f"INSERT INTO {table} AS c ({key}, {period}, {hits}) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {hits} = CASE WHEN c.{period} = EXCLUDED.{period} "
        f"THEN c.{hits} + 1 ELSE 1 END, {period} = EXCLUDED.{period} RETURNING {hits}"
    )


def counter_hit(key: str, *, limit: int, window: int) -> Hit:
    """Count one hit of `key` in the current window of `window` seconds; over when the count
    passes `limit`. A limit of 0 or less counts nothing and is never over."""
    if limit <= 0:
        return Hit(over=False, retry_after=0)
    now = time.time()
    period = int(now) // window
    with prepared_cursor() as cursor:
        cursor.execute(_hit_sql(), [key, period])
        row = cursor.fetchone()
    assert row is not None
    return Hit(over=int(row[0]) > limit, retry_after=max(1, (period + 1) * window - int(now)))
