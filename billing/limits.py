"""The one limits service: emails this billing period, project count, AI spend this period.

Counts come from the usage ledger (public schema), never from tenant tables. Mail over a
limit is held, never dropped: the inbound pipeline asks again later (its re-queue schedule),
and the answer changes when the period rolls over or the plan is upgraded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format

from billing.selectors import Snapshot, billing_snapshot, billing_standing, limits_for
from billing.services import NOTICE_THRESHOLDS, limit_notices_send
from organizations.models import AIBudgetAction, Organization

# How long the batch worker trusts one reading of an organization's standing and usage while it
# is far from every limit: other processes (per-email tasks, a second worker) and billing
# webhooks are seen within this time.
GATE_MAX_AGE_SECONDS = 2.0


@dataclass(frozen=True)
class ProcessingDecision:
    allowed: bool  # False → the email is held, with `reason`
    reason: str = ""
    provider_override: str | None = None  # e.g. "rules" when the AI budget is used up
    ai_budget: bool = False  # not allowed because the AI budget is used up (not the plan's other limits)


def processing_decision(organization: Organization, *, now: datetime | None = None) -> ProcessingDecision:
    """May this organization's next email be processed now, and with which provider? It only reads:
    the worker, about to process an email, asks `processing_decide_and_notify`."""
    return _decision_with_snapshot(organization, now=now or timezone.now())[0]


def processing_decide_and_notify(organization: Organization, *, now: datetime | None = None) -> ProcessingDecision:
    """`processing_decision` for the email the worker is about to process, and the 80 %/100 %
    notices to the admins when its use has crossed a threshold (once per period)."""
    decision, snapshot = _decision_with_snapshot(organization, now=now or timezone.now())
    if snapshot is not None:
        limit_notices_send(organization=organization, snapshot=snapshot)
    return decision


def _decision_with_snapshot(organization: Organization, *, now: datetime) -> tuple[ProcessingDecision, Snapshot | None]:
    standing = billing_standing(organization, now=now)
    if not standing.processing_allowed:
        return ProcessingDecision(allowed=False, reason=standing.reason), None
    snapshot = billing_snapshot(organization, now=now)
    return _decision_from(organization, snapshot), snapshot


def _resumes(snapshot: Snapshot) -> str:
    return date_format(timezone.localtime(snapshot.period.end), "DATE_FORMAT")


def _emails_limit_reached(snapshot: Snapshot) -> ProcessingDecision:
    return ProcessingDecision(
        allowed=False,
        reason=f"The plan's limit of {snapshot.limits.emails} emails this period is reached; "
        f"held until {_resumes(snapshot)} or an upgrade.",
    )


def _decision_from(organization: Organization, snapshot: Snapshot) -> ProcessingDecision:
    resumes = _resumes(snapshot)
    if snapshot.emails_exhausted:
        return _emails_limit_reached(snapshot)
    if snapshot.ai_exhausted and not organization.overage_enabled:
        if organization.ai_budget_action == AIBudgetAction.RULES:
            return ProcessingDecision(allowed=True, provider_override="rules")
        return ProcessingDecision(
            allowed=False,
            ai_budget=True,
            reason=f"The AI budget of ${snapshot.limits.ai_budget_usd} this period is used up; "
            f"held until {resumes} or an upgrade.",
        )
    return ProcessingDecision(allowed=True)


@dataclass(frozen=True)
class _Reading:
    snapshot: Snapshot
    read_at: float  # clock() when the reading started
    pending: int  # emails allowed but not finished when it started: maybe not in the snapshot
    allowed_mark: int  # the gate's allowed total when it started
    spent_mark: Decimal  # the gate's spent total when it started


class ProcessingGate:
    """processing_decide_and_notify for many emails of one organization in a row, without three
    queries per email: the batch worker's threads share one.

    While the organization is far from every limit, an email is allowed from a reading at most
    `max_age` seconds old. Every email that reading may miss is counted on top of it (those in
    flight when it was taken and all allowed since), and so is every dollar recorded since; "far"
    means that the use counted so stays under the first notice threshold (80 %), so no notice is
    due and no limit can be reached before the next reading. Otherwise (near or over a limit,
    paused, on the rules fallback, or the reading is too old) the email gets the exact decision
    of `processing_decide_and_notify` from a fresh organization row, with this gate's emails in flight
    counted on top: mail over a limit is held and notices go out as for a single email. What
    other processes spend is seen at the next reading.

    The caller reports each allowed email with `finished(cost)` once its usage is in the ledger.
    """

    def __init__(
        self,
        organization: Organization,
        *,
        max_age: float = GATE_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.organization = organization
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Lock()
        self._reading: _Reading | None = None
        self._allowed = 0
        self._finished = 0
        self._spent = Decimal("0")

    def decide(self) -> ProcessingDecision:
        with self._lock:
            if self._roomy():
                self._allowed += 1
                return ProcessingDecision(allowed=True)
            marks = (self.clock(), self._allowed - self._finished, self._allowed, self._spent)
        # A fresh row: a failed payment or a plan change applies at the next exact decision.
        organization = Organization.objects.get(pk=self.organization.pk)
        decision, snapshot = _decision_with_snapshot(organization, now=timezone.now())
        if snapshot is not None:
            limit_notices_send(organization=organization, snapshot=snapshot)
        reading = _Reading(snapshot, *marks) if snapshot is not None else None
        with self._lock:
            if decision.allowed and reading is not None and not self._fits(reading):
                # The ledger counts an email once it is done: the ones this gate let through and
                # that are still running would otherwise be missed, and 16 threads near the limit
                # would each take the last place.
                decision = _emails_limit_reached(reading.snapshot)
            reusable = decision.allowed and decision.provider_override is None
            self._reading = reading if reusable else None
            if decision.allowed:
                self._allowed += 1
        return decision

    def finished(self, cost: Decimal = Decimal("0")) -> None:
        """An allowed email is done; `cost` is what its calls added to the ledger."""
        with self._lock:
            self._finished += 1
            self._spent += cost

    def _emails_counted(self, reading: _Reading) -> int:
        """This period's emails with the next one: the reading's, every email that may be missing
        from it (in flight when it was taken, allowed since) and the next one."""
        return reading.snapshot.emails + reading.pending + (self._allowed - reading.allowed_mark) + 1

    def _fits(self, reading: _Reading) -> bool:
        limit = reading.snapshot.limits.emails
        return limit is None or self._emails_counted(reading) <= limit

    def _roomy(self) -> bool:
        reading = self._reading
        if reading is None or self.clock() - reading.read_at >= self.max_age:
            return False
        first = min(NOTICE_THRESHOLDS)
        limits = reading.snapshot.limits
        emails = self._emails_counted(reading)
        cost = reading.snapshot.ai_cost_usd + (self._spent - reading.spent_mark)
        emails_room = limits.emails is None or emails * 100 < first * limits.emails
        ai_room = limits.ai_budget_usd is None or cost * 100 < first * limits.ai_budget_usd
        return emails_room and ai_room


def project_creation_allowed(organization: Organization, *, current_count: int) -> bool:
    """Whether one more project fits the plan (the caller counts its open projects)."""
    limit = limits_for(organization).projects
    return limit is None or current_count < limit
