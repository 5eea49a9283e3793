"""Public tables that share the platform fairly between organizations (docs/performance.md,
"Fairness between organizations"). Organizations are named by schema, not by a foreign key:
these rows are written on every delivery, and a key check would cost a lookup each time.
"""

from __future__ import annotations

from django.db import models


class Turn(models.Model):
    """An email of one organization waiting for a worker (fairness.turns).

    `round` orders the organizations' turns as start-time fair queuing does: an organization's
    next email gets the round after its previous one's, and never one below the round being
    served, so every organization with mail waiting is served once per round.
    """

    schema_name = models.CharField(max_length=63)
    email_id = models.BigIntegerField()
    round = models.BigIntegerField()
    # A retry waits here until its time; the task that runs it is scheduled for then.
    available_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schema_name", "email_id"], name="turn_once_per_email")]
        indexes = [
            models.Index(fields=["round", "id"], name="turn_order"),
            models.Index(fields=["schema_name", "round"], name="turn_schema_round"),
        ]

    def __str__(self) -> str:
        return f"{self.schema_name} email {self.email_id} (round {self.round})"


class RateCount(models.Model):
    """Hits of one key in its current fixed window (fairness.limits). UNLOGGED (migration 0001):
    a counter lost in a crash costs nothing, and a statement that writes only unlogged rows
    commits without waiting for the WAL to reach the disk."""

    key = models.CharField(max_length=200, primary_key=True)
    period = models.BigIntegerField()  # the window's number: seconds since the epoch // window
    hits = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.key}: {self.hits} in window {self.period}"
