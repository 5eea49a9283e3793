"""Whose email is taken next: every organization with mail waiting once per round."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from fairness.models import Turn
from fairness.turns import turn_add, turn_release, turn_take


def takes(count: int) -> list[tuple[str, int]]:
    """Turns taken and released, as workers that processed their emails leave them."""
    taken = []
    for _ in range(count):
        turn = turn_take(lease_seconds=60)
        assert turn is not None
        turn_release(turn)
        taken.append((turn.schema_name, turn.email_id))
    return taken


def lease_ends(turn_email_id: int) -> None:
    Turn.objects.filter(email_id=turn_email_id).update(available_at=timezone.now() - timedelta(seconds=1))


def test_a_quiet_organizations_email_is_taken_before_another_organizations_backlog(db):
    for email_id in range(1, 51):
        turn_add(schema_name="flood", email_id=email_id)
    turn_add(schema_name="quiet", email_id=7)
    assert takes(2) == [("quiet", 7), ("flood", 1)]


def test_two_busy_organizations_take_turns(db):
    for email_id in range(1, 11):
        turn_add(schema_name="first", email_id=email_id)
    for email_id in range(101, 111):
        turn_add(schema_name="second", email_id=email_id)
    taken = takes(20)
    assert [schema for schema, _ in taken[1:19]] == ["first", "second"] * 9
    # Each organization's own mail keeps its order.
    assert [email for schema, email in taken if schema == "first"] == list(range(1, 11))
    assert [email for schema, email in taken if schema == "second"] == list(range(101, 111))
    assert turn_take(lease_seconds=60) is None


def test_a_quiet_organization_goes_before_deliveries_written_at_once_with_the_same_round(db):
    # Rows of one organization written concurrently can share a round (none saw the others).
    Turn.objects.bulk_create(
        [Turn(schema_name="flood", email_id=i, round=5, available_at="2000-01-01T00:00Z") for i in (1, 2, 3)]
    )
    turn_add(schema_name="quiet", email_id=9)
    assert [schema for schema, _ in takes(4)] == ["quiet", "flood", "flood", "flood"]


def test_a_retry_waits_for_its_time(db):
    turn_add(schema_name="acme", email_id=1, delay_seconds=60)
    turn_add(schema_name="acme", email_id=2)
    assert takes(1) == [("acme", 2)]
    assert turn_take(lease_seconds=60) is None
    assert Turn.objects.get().email_id == 1


def test_an_email_has_one_turn_however_often_it_is_queued(db):
    turn_add(schema_name="acme", email_id=1)
    turn_add(schema_name="acme", email_id=1)
    assert Turn.objects.count() == 1


def test_a_retry_that_waits_does_not_hold_up_the_mail_due_after_it(db):
    Turn.objects.bulk_create(
        [
            Turn(schema_name="acme", email_id=1, round=0, available_at="2999-01-01T00:00Z"),
            Turn(schema_name="acme", email_id=2, round=100, available_at="2000-01-01T00:00Z"),
        ]
    )
    assert takes(1) == [("acme", 2)]


def test_a_taken_turn_is_leased_not_removed_until_released(db):
    turn_add(schema_name="acme", email_id=1)
    turn = turn_take(lease_seconds=60)
    assert turn is not None
    assert turn_take(lease_seconds=60) is None  # not due while leased
    leased = Turn.objects.get(email_id=1)
    assert leased.available_at > timezone.now() + timedelta(seconds=50)
    turn_release(turn)
    assert not Turn.objects.exists()


def test_a_turn_whose_worker_died_before_releasing_it_is_taken_again_when_its_lease_ends(db):
    turn_add(schema_name="acme", email_id=1)
    assert turn_take(lease_seconds=60) is not None  # the worker is killed here
    lease_ends(1)
    again = turn_take(lease_seconds=60)
    assert again is not None and (again.schema_name, again.email_id) == ("acme", 1)


def test_a_turn_given_again_while_leased_is_not_released_with_the_taken_one(db):
    turn_add(schema_name="acme", email_id=1)
    turn = turn_take(lease_seconds=60)
    assert turn is not None
    turn_add(schema_name="acme", email_id=1, delay_seconds=5)  # a retry, queued before the release
    turn_release(turn)
    retry = Turn.objects.get(email_id=1)
    assert timezone.now() < retry.available_at < timezone.now() + timedelta(seconds=10)
