import datetime as dt
from decimal import Decimal

import pytest

from events.models import Event, EventHistory, EventKind
from events.services import (
    EventError,
    event_create,
    event_delete,
    event_mark_done,
    event_move,
    event_restore,
    event_suggestion_accept,
    event_suggestion_dismiss,
    event_update,
)
from tests.factories import EventFactory, ProjectFactory


def test_it_creates_a_manual_event_with_history(world):
    project = ProjectFactory()
    event = event_create(
        project=project,
        actor=world.member,
        kind=EventKind.PAYMENT,
        title="  Deposit  ",
        date=dt.date(2026, 12, 1),
        people=["Ana", " ", "Bo"],
        amount=Decimal("1200.50"),
        currency="eur",
    )
    assert event.title == "Deposit"
    assert event.provider == "manual"
    assert event.people == ["Ana", "Bo"]
    assert event.currency == "EUR"
    assert event.email is None
    assert list(event.history.values_list("action", flat=True)) == ["created"]
    project.refresh_from_db()
    assert project.last_activity_at is not None


def test_it_refuses_an_unknown_kind(world):
    project = ProjectFactory()
    with pytest.raises(Exception, match="kind"):
        event_create(project=project, actor=world.member, kind="party", title="x")
    assert not Event.objects.filter(project=project).exists()


def test_it_marks_an_edited_event_and_records_before_and_after(world):
    event = EventFactory(title="Site meeting", date=dt.date(2026, 12, 1))
    event_update(event=event, actor=world.member, title="Site visit", date=dt.date(2026, 12, 3))
    event.refresh_from_db()
    assert event.title == "Site visit"
    assert event.edited is True
    assert event.edited_by == world.member
    history = EventHistory.objects.get(event=event, action="edited")
    assert history.before == {"title": "Site meeting", "date": "2026-12-01"}
    assert history.after == {"title": "Site visit", "date": "2026-12-03"}


def test_saving_an_event_unchanged_confirms_it_without_marking_it_edited(world):
    event = EventFactory(title="Same", confidence=0.45)
    event_update(event=event, actor=world.member, title="Same")
    event_update(event=event, actor=world.admin, title="Same")  # once is enough
    event = Event.objects.get(pk=event.pk)
    assert event.edited is False
    assert [(h.action, h.actor) for h in event.history.all()] == [("checked", world.member)]
    assert event.checked is True
    assert event.corroborated_confidence == 1.0  # the "45% sure" badge goes
    assert event.confidence == 0.45  # the extraction's own reading is kept


def test_a_person_editing_an_event_settles_the_extractions_doubt(world):
    event = EventFactory(title="Site meeting", confidence=0.45, date=dt.date(2026, 12, 1))
    assert event.corroborated_confidence == 0.45

    event_update(event=event, actor=world.member, title="Site visit", date=dt.date(2026, 12, 3))

    assert Event.objects.get(pk=event.pk).corroborated_confidence == 1.0


@pytest.mark.parametrize("edited_before", [False, True])
def test_undoing_a_delete_restores_the_edited_state_exactly(world, edited_before):
    event = EventFactory(confidence=0.45)
    if edited_before:
        event_update(event=event, actor=world.admin, title="Changed by the admin")
    event_delete(event=event, actor=world.member)

    event_restore(event=Event.objects.get(pk=event.pk), actor=world.member)

    event = Event.objects.get(pk=event.pk)
    assert event.deleted_at is None
    assert event.edited is edited_before
    assert event.edited_by == (world.admin if edited_before else None)
    assert event.corroborated_confidence == (1.0 if edited_before else 0.45)


def test_undoing_a_dismissal_gives_back_an_unedited_suggestion(world):
    event = EventFactory(suggested=True)
    event_suggestion_dismiss(event=event, actor=world.member)

    event_restore(event=Event.objects.get(pk=event.pk), actor=world.member)

    event = Event.objects.get(pk=event.pk)
    assert (event.suggested, event.edited, event.edited_by) == (True, False, None)


def test_undo_leaves_the_edited_state_of_a_delete_recorded_before_it_was_kept(world):
    event = EventFactory()
    event_delete(event=event, actor=world.member)
    EventHistory.objects.filter(event=event, action="deleted").update(before={})

    event_restore(event=Event.objects.get(pk=event.pk), actor=world.member)

    assert Event.objects.get(pk=event.pk).edited is True


def test_it_refuses_to_edit_provenance_fields(world):
    event = EventFactory()
    with pytest.raises(EventError):
        event_update(event=event, actor=world.member, confidence=0.1)


def test_it_marks_done_and_reopens(world):
    event = EventFactory()
    event_mark_done(event=event, actor=world.member)
    event.refresh_from_db()
    assert event.done is True
    event_mark_done(event=event, actor=world.member, done=False)
    event.refresh_from_db()
    assert event.done is False
    assert list(event.history.values_list("action", flat=True)) == ["done", "reopened"]


def test_it_soft_deletes_and_restores(world):
    event = EventFactory()
    event_delete(event=event, actor=world.member)
    event.refresh_from_db()
    assert event.deleted_at is not None
    assert event.edited is True  # so re-processing the email does not bring it back
    event_restore(event=event, actor=world.member)
    event.refresh_from_db()
    assert event.deleted_at is None
    assert list(event.history.values_list("action", flat=True)) == ["deleted", "restored"]


def test_it_moves_an_event_to_another_project(world):
    event = EventFactory()
    target = ProjectFactory(name="Target")
    event_move(event=event, actor=world.member, project=target)
    event.refresh_from_db()
    assert event.project == target
    history = event.history.get(action="moved")
    assert history.after["project"] == "Target"


def test_it_refuses_to_move_into_a_merged_project(world):
    event = EventFactory()
    merged = ProjectFactory(merged_into=ProjectFactory())
    with pytest.raises(EventError):
        event_move(event=event, actor=world.member, project=merged)


# --- suggestions (Event.suggested) -------------------------------------------------------------


def test_accepting_a_suggestion_makes_it_an_event_like_any_other_with_who_accepted_it(world):
    event = EventFactory(confidence=0.45, suggested=True)
    event_suggestion_accept(event=event, actor=world.member)
    event.refresh_from_db()
    assert (event.suggested, event.deleted_at, event.confidence) == (False, None, 0.45)
    assert (event.edited, event.edited_by) == (True, world.member)  # re-processing its email keeps it
    history = event.history.get()
    assert (history.action, history.actor) == ("accepted", world.member)


def test_accepting_an_event_that_is_no_suggestion_changes_nothing(world):
    event = EventFactory(suggested=False)
    event_suggestion_accept(event=event, actor=world.member)
    event.refresh_from_db()
    assert event.edited is False
    assert not event.history.exists()


def test_dismissing_a_suggestion_soft_deletes_it_and_undo_brings_it_back_as_a_suggestion(world):
    event = EventFactory(confidence=0.45, suggested=True)
    event_suggestion_dismiss(event=event, actor=world.member)
    event.refresh_from_db()
    assert event.deleted_at is not None
    assert (event.edited, event.edited_by) == (True, world.member)  # re-processing does not suggest it again
    event_restore(event=event, actor=world.member)
    event.refresh_from_db()
    assert (event.deleted_at, event.suggested) == (None, True)
    assert list(event.history.values_list("action", "actor")) == [
        ("dismissed", world.member.pk),
        ("restored", world.member.pk),
    ]


def test_dismissing_an_accepted_event_or_a_dismissed_one_changes_nothing(world):
    accepted = EventFactory(suggested=False)
    event_suggestion_dismiss(event=accepted, actor=world.member)
    accepted.refresh_from_db()
    assert accepted.deleted_at is None
    dismissed = EventFactory(suggested=True)
    event_suggestion_dismiss(event=dismissed, actor=world.member)
    event_suggestion_dismiss(event=dismissed, actor=world.member)
    assert list(dismissed.history.values_list("action", flat=True)) == ["dismissed"]
    assert not accepted.history.exists()


@pytest.mark.parametrize("service", [event_suggestion_accept, event_suggestion_dismiss])
def test_each_suggestion_service_owns_its_transaction(world, monkeypatch, service):
    event = EventFactory(suggested=True)

    def fail(*args, **kwargs):
        raise RuntimeError("history insert failed")

    monkeypatch.setattr(EventHistory.objects, "create", fail)
    with pytest.raises(RuntimeError):
        service(event=event, actor=world.member)
    event.refresh_from_db()
    assert (event.suggested, event.deleted_at, event.edited) == (True, None, False)
