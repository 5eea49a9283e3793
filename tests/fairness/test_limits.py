"""Fixed-window counters in PostgreSQL (one statement a hit)."""

from __future__ import annotations

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fairness.limits import counter_hit


def test_it_counts_hits_in_a_window_and_starts_again_in_the_next(db):
    with time_machine.travel(1_000_040, tick=False):  # 20 s into a minute
        assert [counter_hit("org:1", limit=2, window=60).over for _ in range(3)] == [False, False, True]
        assert counter_hit("org:1", limit=2, window=60).retry_after == 40
        assert counter_hit("org:2", limit=2, window=60).over is False
    with time_machine.travel(1_000_100, tick=False):
        assert counter_hit("org:1", limit=2, window=60).over is False


def test_a_hit_is_one_statement(db):
    counter_hit("org:1", limit=5, window=60)
    with CaptureQueriesContext(connection) as queries:
        counter_hit("org:1", limit=5, window=60)
    assert len(queries) == 1


def test_a_zero_limit_counts_nothing(db):
    with CaptureQueriesContext(connection) as queries:
        assert counter_hit("org:1", limit=0, window=60).over is False
    assert len(queries) == 0
