from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.limits import (
    ProcessingDecision,
    ProcessingGate,
    processing_decide_and_notify,
    processing_decision,
    project_creation_allowed,
)
from billing.models import LimitNotice
from organizations.models import AIBudgetAction, BillingStatus, Organization
from tests.billing.factories import ledger


def test_it_allows_processing_under_the_email_limit(org: Organization) -> None:
    ledger(org, emails=499)

    assert processing_decision(org).allowed


def test_it_holds_mail_at_the_email_limit_with_a_reason(org: Organization) -> None:
    ledger(org, emails=500)

    decision = processing_decision(org)

    assert not decision.allowed
    assert "limit of 500 emails" in decision.reason


def test_it_holds_everything_when_the_limit_is_zero(org: Organization) -> None:
    org.custom_email_limit = 0

    assert not processing_decision(org).allowed


def test_it_counts_an_email_once_however_many_calls_it_took(org: Organization) -> None:
    rows = ledger(org, emails=1)
    for _ in range(600):
        rows[0].pk = None
        rows[0].save()

    assert processing_decision(org).allowed


def test_last_months_mail_does_not_count(org: Organization) -> None:
    ledger(org, emails=500, at=timezone.now() - timedelta(days=40))

    assert processing_decision(org).allowed


def test_the_limit_resets_when_the_period_rolls_over(org: Organization) -> None:
    march = datetime(2026, 3, 20, tzinfo=UTC)
    ledger(org, emails=500, at=march)

    assert not processing_decision(org, now=march + timedelta(days=1)).allowed
    assert processing_decision(org, now=datetime(2026, 4, 1, tzinfo=UTC)).allowed


def test_enterprise_is_unlimited_unless_staff_set_a_limit(org: Organization) -> None:
    org.plan = "enterprise"
    ledger(org, emails=3, cost_each=Decimal("100"))
    assert processing_decision(org).allowed

    org.custom_email_limit = 3
    assert not processing_decision(org).allowed


def test_it_holds_mail_when_the_ai_budget_is_used_up_and_the_choice_is_hold(org: Organization) -> None:
    ledger(org, emails=2, cost_each=Decimal("10"))

    decision = processing_decision(org)

    assert not decision.allowed
    assert "AI budget of $20.00" in decision.reason


def test_it_continues_with_rules_when_the_ai_budget_is_used_up_and_the_choice_is_rules(org: Organization) -> None:
    org.ai_budget_action = AIBudgetAction.RULES
    ledger(org, emails=2, cost_each=Decimal("10"))

    decision = processing_decision(org)

    assert decision.allowed
    assert decision.provider_override == "rules"


def test_it_keeps_using_ai_with_overage_enabled(org: Organization) -> None:
    org.overage_enabled = True
    ledger(org, emails=3, cost_each=Decimal("10"))

    assert processing_decision(org) == ProcessingDecision(allowed=True)


def test_it_allows_past_due_within_the_grace_period_then_pauses(org: Organization, settings: Any) -> None:
    settings.BILLING_GRACE_DAYS = 7
    org.billing_status = BillingStatus.PAST_DUE
    org.billing_status_changed_at = timezone.now() - timedelta(days=6)
    assert processing_decision(org).allowed

    org.billing_status_changed_at = timezone.now() - timedelta(days=8)
    decision = processing_decision(org)
    assert not decision.allowed
    assert "grace period is over" in decision.reason


def test_a_canceled_subscription_pauses_at_period_end(org: Organization) -> None:
    org.billing_status = BillingStatus.CANCELED
    org.current_period_end = timezone.now() + timedelta(days=2)
    assert processing_decision(org).allowed

    assert not processing_decision(org, now=timezone.now() + timedelta(days=3)).allowed


def test_unpaid_pauses_processing(org: Organization) -> None:
    org.billing_status = BillingStatus.UNPAID

    assert not processing_decision(org).allowed


def test_an_expired_trial_pauses_only_when_payments_are_configured(org: Organization, settings: Any) -> None:
    org.trial_ends_at = timezone.now() - timedelta(days=1)
    assert processing_decision(org).allowed

    settings.STRIPE_TEST_SECRET_KEY = "sk_test_" + "x" * 24
    assert "trial has ended" in processing_decision(org).reason


@pytest.mark.parametrize(("count", "allowed"), [(0, True), (1, True), (2, False), (5, False)])
def test_project_creation_follows_the_starter_limit_of_two(org: Organization, count: int, allowed: bool) -> None:
    assert project_creation_allowed(org, current_count=count) is allowed


def test_professional_allows_any_number_of_projects(org: Organization) -> None:
    org.plan = "professional"

    assert project_creation_allowed(org, current_count=1000)


def test_admins_are_told_at_80_and_100_percent_once_per_period(org: Organization, world: Any) -> None:
    ledger(org, emails=399)
    processing_decide_and_notify(org)
    assert LimitNotice.objects.filter(organization=org).count() == 0

    ledger(org, emails=1)
    processing_decide_and_notify(org)
    processing_decide_and_notify(org)
    assert list(LimitNotice.objects.filter(organization=org).values_list("limit", "threshold")) == [("emails", 80)]

    ledger(org, emails=100)
    processing_decide_and_notify(org)
    processing_decide_and_notify(org)
    notices = LimitNotice.objects.filter(organization=org).order_by("threshold")
    assert list(notices.values_list("limit", "threshold")) == [("emails", 80), ("emails", 100)]


def test_the_decision_alone_sends_no_notice(org: Organization, world: Any) -> None:
    ledger(org, emails=450)

    assert processing_decision(org).allowed
    assert not LimitNotice.objects.filter(organization=org).exists()


def test_the_notice_mail_goes_to_owners_and_admins_after_commit(
    org: Organization, world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ledger(org, emails=400)

    with django_capture_on_commit_callbacks(execute=True):
        processing_decide_and_notify(org)

    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["admin@testorg.test", "owner@testorg.test"]
    assert "80 % of its email limit" in mail.outbox[0].subject
    assert "400 of 500" in mail.outbox[0].body


def test_notices_do_not_leak_to_another_organization(org: Organization, other_org: Organization) -> None:
    ledger(other_org, emails=500)

    assert processing_decide_and_notify(org).allowed
    assert not LimitNotice.objects.filter(organization=org).exists()


def test_the_limit_resets_at_the_subscriptions_renewal(org: Organization) -> None:
    ledger(org, emails=500, at=timezone.now() - timedelta(days=5))
    org.current_period_end = timezone.now() + timedelta(days=2)
    assert not processing_decision(org).allowed

    # invoice.paid at renewal moved the period end a month on.
    org.current_period_end = timezone.now() - timedelta(days=1) + relativedelta(months=1)
    assert processing_decision(org).allowed


def test_the_ai_budget_notice_says_what_happens_next(
    org: Organization, world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    org.ai_budget_action = AIBudgetAction.RULES
    ledger(org, emails=1, cost_each=Decimal("20"))

    with django_capture_on_commit_callbacks(execute=True):
        processing_decide_and_notify(org)

    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == [
        "[Projectr] Test Org has used 100 % of its AI budget",
        "[Projectr] Test Org has used 80 % of its AI budget",
    ]
    assert "processed with the offline rules engine" in next(m.body for m in mail.outbox if "100 %" in m.subject)


@pytest.mark.parametrize(("spent", "allowed"), [("19.99", True), ("20.00", False), ("35.00", False)])
def test_the_ai_budget_edge(org: Organization, spent: str, allowed: bool) -> None:
    ledger(org, emails=1, cost_each=Decimal(spent))

    assert processing_decision(org).allowed is allowed


# --- the batch worker's gate: the same answers, fewer readings ------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def answered_from_the_reading(gate: ProcessingGate) -> bool:
    with CaptureQueriesContext(connection) as queries:
        assert gate.decide().allowed
    return len(queries) == 0


def test_the_gate_answers_from_one_reading_while_far_from_every_limit(org: Organization) -> None:
    ledger(org, emails=10)
    gate = ProcessingGate(org, clock=Clock())

    assert not answered_from_the_reading(gate)
    assert all(answered_from_the_reading(gate) for _ in range(20))


def test_the_gate_reads_again_once_its_reading_is_old(org: Organization) -> None:
    clock = Clock()
    gate = ProcessingGate(org, max_age=2.0, clock=clock)
    gate.decide()

    clock.now = 2.0

    assert not answered_from_the_reading(gate)


def test_the_gate_counts_what_it_allowed_and_decides_exactly_near_the_limit(org: Organization) -> None:
    # Starter: 500 emails; the first notice is at 400, so from 395 used four more fit the reading.
    ledger(org, emails=395)
    gate = ProcessingGate(org, clock=Clock())
    gate.decide()

    assert [answered_from_the_reading(gate) for _ in range(4)] == [True, True, True, False]


def test_the_gate_holds_an_email_over_the_limit_with_the_exact_reason(org: Organization) -> None:
    ledger(org, emails=499)
    gate = ProcessingGate(org, clock=Clock())
    assert gate.decide().allowed
    gate.finished()

    ledger(org, emails=1)
    decision = gate.decide()

    assert decision == processing_decision(org)
    assert not decision.allowed and "limit of 500 emails" in decision.reason


def test_the_gate_counts_emails_still_in_flight_when_it_reads(org: Organization) -> None:
    ledger(org, emails=390)
    gate = ProcessingGate(org, max_age=2.0, clock=(clock := Clock()))
    for _ in range(5):
        gate.decide()  # allowed, their usage not in the ledger yet
    clock.now = 2.0

    gate.decide()  # a new reading: 390 in the ledger, 5 in flight, this one

    # 396 counted; the next three keep the count under 400, the fourth would reach it.
    assert [answered_from_the_reading(gate) for _ in range(4)] == [True, True, True, False]


def test_the_gate_lets_only_as_many_emails_through_as_places_are_left(org: Organization) -> None:
    # Starter: 500 emails. Two places left, and nothing finishes while five threads ask.
    ledger(org, emails=498)
    gate = ProcessingGate(org, clock=Clock())

    decisions = [gate.decide() for _ in range(5)]

    assert [decision.allowed for decision in decisions] == [True, True, False, False, False]
    assert "limit of 500 emails" in decisions[2].reason


def test_the_gate_gives_a_place_back_when_an_allowed_email_ends_without_counting(org: Organization) -> None:
    # An email that failed before any call leaves nothing in the ledger: its place is free again.
    ledger(org, emails=499)
    gate = ProcessingGate(org, clock=Clock())
    assert gate.decide().allowed
    assert not gate.decide().allowed

    gate.finished()

    assert gate.decide().allowed


def test_the_gate_counts_the_ai_cost_recorded_since_its_reading(org: Organization) -> None:
    ledger(org, emails=1, cost_each=Decimal("15"))  # Starter's budget is $20: the notice is at $16
    gate = ProcessingGate(org, clock=Clock())
    gate.decide()
    assert answered_from_the_reading(gate)

    gate.finished(Decimal("1.5"))

    assert not answered_from_the_reading(gate)


def test_the_gate_sees_a_paused_subscription_at_its_next_reading(org: Organization) -> None:
    clock = Clock()
    gate = ProcessingGate(org, max_age=2.0, clock=clock)
    assert gate.decide().allowed

    Organization.objects.filter(pk=org.pk).update(billing_status=BillingStatus.UNPAID)
    clock.now = 2.0

    assert not gate.decide().allowed


def test_the_gate_sends_the_notice_when_it_decides_exactly(org: Organization, world: Any) -> None:
    ledger(org, emails=399)
    gate = ProcessingGate(org, clock=Clock())
    gate.decide()

    ledger(org, emails=1)
    gate.decide()

    assert list(LimitNotice.objects.filter(organization=org).values_list("limit", "threshold")) == [("emails", 80)]
