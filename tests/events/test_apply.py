"""extraction_apply: project matching order, events with provenance, reschedules, cancels, re-processing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from events.apply import ProjectLimitReached, extraction_apply
from events.models import Event, EventHistory, EventStatus
from extraction.types import ExtractedEvent, Extraction, ProjectDecision
from projects.models import Project, ProjectAlias, ProjectStatus
from tests.factories import EmailFactory, EventFactory, ProjectFactory

DAY = dt.date(2026, 12, 4)


def extraction(
    project: ProjectDecision | None = None, events: list[ExtractedEvent] | None = None, **kw: Any
) -> Extraction:
    return Extraction(
        project=project
        or ProjectDecision(
            action="new",
            name="Henderson kitchen",
            client_name="Henderson",
            client_email="sarah@henderson.example",
            confidence=0.9,
        ),
        events=events if events is not None else [meeting()],
        summary="Site visit agreed.",
        usage=[],
        provider=kw.get("provider", "rules"),
        model=kw.get("model", "rules"),
    )


def meeting(**kw: Any) -> ExtractedEvent:
    values: dict[str, Any] = {
        "kind": "meeting",
        "title": "Site visit",
        "date": DAY,
        "time": dt.time(10, 0),
        "evidence": "Site visit on Friday at 10am.",
        "confidence": 0.8,
    }
    values.update(kw)
    return ExtractedEvent(**values)


def test_it_creates_a_project_and_events_with_their_provenance(org):
    email = EmailFactory(project=None)

    result = extraction_apply(
        organization=org,
        email=email,
        extraction=extraction(
            events=[
                meeting(),
                ExtractedEvent(
                    kind="payment",
                    title="Deposit",
                    date=DAY,
                    amount=Decimal("2500"),
                    currency="GBP",
                    evidence="Deposit of £2,500.",
                ),
            ],
            provider="anthropic",
            model="claude-haiku-5-5",
        ),
    )

    assert result.project_created is True
    project = Project.objects.get(pk=result.project.pk)
    assert (project.name, project.slug, project.client_email) == (
        "Henderson kitchen",
        "henderson-kitchen",
        "sarah@henderson.example",
    )
    assert project.last_activity_at == email.date
    visit, deposit = sorted(result.created_events, key=lambda e: e.kind)
    assert (visit.kind, visit.date, visit.time, visit.email_id) == ("meeting", DAY, dt.time(10, 0), email.pk)
    assert (visit.evidence, visit.confidence, visit.provider, visit.model) == (
        "Site visit on Friday at 10am.",
        0.8,
        "anthropic",
        "claude-haiku-5-5",
    )
    assert (deposit.amount, deposit.currency) == (Decimal("2500.00"), "GBP")


def test_the_hint_wins_over_the_thread_and_the_provider(org):
    hinted, threaded, proposed = ProjectFactory(slug="loft"), ProjectFactory(), ProjectFactory()
    EmailFactory(message_id="<first@x>", project=threaded)
    email = EmailFactory(project=None, project_hint="loft", in_reply_to="<first@x>")

    result = extraction_apply(
        organization=org,
        email=email,
        extraction=extraction(ProjectDecision(action="existing", project_id=proposed.pk, confidence=0.9)),
    )

    assert result.project == hinted


def test_the_thread_wins_over_the_providers_match(org):
    threaded, proposed = ProjectFactory(), ProjectFactory()
    EmailFactory(message_id="<root@x>", project=threaded)
    email = EmailFactory(project=None, in_reply_to="<other@x>", references=["<root@x>", "<other@x>"])

    result = extraction_apply(
        organization=org,
        email=email,
        extraction=extraction(ProjectDecision(action="existing", project_id=proposed.pk, confidence=0.9)),
    )

    assert result.project == threaded
    assert result.project_created is False


def test_a_thread_whose_project_was_merged_leaves_the_choice_to_the_provider(org):
    proposed = ProjectFactory()
    EmailFactory(message_id="<root@x>", project=ProjectFactory(merged_into=ProjectFactory()))
    email = EmailFactory(project=None, in_reply_to="<root@x>", references=["<root@x>"])

    result = extraction_apply(
        organization=org,
        email=email,
        extraction=extraction(ProjectDecision(action="existing", project_id=proposed.pk, confidence=0.9)),
    )

    assert result.project == proposed


def test_the_thread_and_name_matches_give_the_project_as_the_orm_reads_it(org):
    threaded = ProjectFactory(client_name="Henderson", last_activity_at=None)
    named = ProjectFactory(name="Henderson kitchen", client_email="sarah@henderson.example")
    EmailFactory(message_id="<root@x>", project=threaded)
    fields = [f.attname for f in Project._meta.concrete_fields]
    # As read before the apply, which moves last_activity_at on afterwards.
    expected = {p.pk: {name: getattr(p, name) for name in fields} for p in Project.objects.all()}

    by_thread = extraction_apply(
        organization=org, email=EmailFactory(project=None, in_reply_to="<root@x>"), extraction=extraction(events=[])
    ).project
    by_name = extraction_apply(
        organization=org, email=EmailFactory(project=None), extraction=extraction(events=[])
    ).project

    for found, project in ((by_thread, threaded), (by_name, named)):
        assert found is not None and found.pk == project.pk
        assert {name: getattr(found, name) for name in fields} == expected[project.pk]
        assert (found._state.adding, found._state.db) == (False, "default")


def test_it_follows_the_providers_match_when_there_is_no_thread(org):
    proposed = ProjectFactory()

    result = extraction_apply(
        organization=org,
        email=EmailFactory(project=None),
        extraction=extraction(ProjectDecision(action="existing", project_id=proposed.pk, confidence=0.9)),
    )

    assert result.project == proposed


def test_a_proposed_new_name_that_is_an_alias_matches_that_project(org):
    project = ProjectFactory(name="Old Mill conversion")
    ProjectAlias.objects.create(project=project, alias="Henderson kitchen")
    count = Project.objects.count()

    result = extraction_apply(organization=org, email=EmailFactory(project=None), extraction=extraction())

    assert result.project == project
    assert Project.objects.count() == count


def test_a_proposed_new_name_matches_an_open_unmerged_project_of_that_name_whatever_its_case(org):
    ProjectFactory(name="Henderson Kitchen", status=ProjectStatus.COMPLETED)
    ProjectFactory(name="HENDERSON KITCHEN", merged_into=ProjectFactory(name="Elsewhere"))
    project = ProjectFactory(name="henderson KITCHEN", status=ProjectStatus.ON_HOLD)
    count = Project.objects.count()

    result = extraction_apply(organization=org, email=EmailFactory(project=None), extraction=extraction())

    assert (result.project, result.project_created) == (project, False)
    assert Project.objects.count() == count


def test_it_holds_the_email_when_the_plan_allows_no_more_projects(org, monkeypatch):
    seen: dict[str, int] = {}

    def refuse(organization: Any, *, current_count: int) -> bool:
        seen["count"] = current_count
        return False

    monkeypatch.setattr("projects.services.project_creation_allowed", refuse)
    ProjectFactory()
    count = Project.objects.count()

    with pytest.raises(ProjectLimitReached):
        extraction_apply(organization=org, email=EmailFactory(project=None), extraction=extraction())

    assert Project.objects.count() == count
    assert seen["count"] == count


# Two emails of one new thread processed at once: the second worker's project_match looked before
# the first worker committed the project, so it comes to create one that exists by now.


def test_a_project_created_meanwhile_by_another_worker_gets_the_email_instead_of_a_twin(org):
    from django.db import transaction

    from events.apply import _project_create

    existing = ProjectFactory(name="Henderson kitchen", slug="henderson-kitchen")

    with transaction.atomic():
        project, created = _project_create(organization=org, extraction=extraction())

    assert (project, created) == (existing, False)
    assert list(Project.objects.values_list("slug", flat=True)) == ["henderson-kitchen"]


def test_a_project_created_meanwhile_is_used_even_when_the_plan_has_no_room_for_another(org, monkeypatch):
    from django.db import transaction

    from events.apply import _project_create

    monkeypatch.setattr("projects.services.project_creation_allowed", lambda organization, *, current_count: False)
    existing = ProjectFactory(name="Henderson kitchen")

    with transaction.atomic():
        project, created = _project_create(organization=org, extraction=extraction())

    assert (project, created) == (existing, False)


def test_a_reschedule_supersedes_the_earlier_event_and_keeps_its_history(org):
    project = ProjectFactory()
    earlier = EventFactory(project=project, date=dt.date(2026, 12, 1), email=EmailFactory(project=project))
    email = EmailFactory(project=project)

    result = extraction_apply(
        organization=org,
        email=email,
        extraction=extraction(events=[meeting(updates_event_id=earlier.pk, update_action="reschedule")]),
    )

    [new] = result.created_events
    earlier.refresh_from_db()
    assert (earlier.status, earlier.superseded_by_id, earlier.date) == (
        EventStatus.SUPERSEDED,
        new.pk,
        dt.date(2026, 12, 1),
    )
    assert new.date == DAY and new.status == EventStatus.ACTIVE
    history = EventHistory.objects.get(event=earlier, action="rescheduled")
    assert history.email == email
    assert (history.before["date"], history.after["date"]) == ("2026-12-01", "2026-12-04")


def test_a_cancellation_marks_the_earlier_event_cancelled(org):
    project = ProjectFactory()
    earlier = EventFactory(project=project, email=EmailFactory(project=project))
    email = EmailFactory(project=project)

    result = extraction_apply(
        organization=org,
        email=email,
        extraction=extraction(events=[meeting(updates_event_id=earlier.pk, update_action="cancel")]),
    )

    earlier.refresh_from_db()
    assert earlier.status == EventStatus.CANCELLED
    assert result.created_events == [] and result.updated_events == [earlier]
    assert EventHistory.objects.filter(event=earlier, action="cancelled", email=email).exists()


def test_re_processing_replaces_exactly_that_emails_events(org):
    project = ProjectFactory()
    email = EmailFactory(project=project)
    other = EventFactory(project=project, email=EmailFactory(project=project))
    extraction_apply(
        organization=org,
        email=email,
        extraction=extraction(events=[meeting(), meeting(kind="deadline", title="Drawings due")]),
    )

    extraction_apply(organization=org, email=email, extraction=extraction(events=[meeting(title="Site visit (moved)")]))

    assert list(Event.objects.filter(email=email).values_list("title", flat=True)) == ["Site visit (moved)"]
    assert Event.objects.filter(pk=other.pk).exists()


def test_re_processing_a_reschedule_restores_then_reapplies_it(org):
    project = ProjectFactory()
    earlier = EventFactory(project=project, date=dt.date(2026, 12, 1), email=EmailFactory(project=project))
    email = EmailFactory(project=project)
    moved = extraction(events=[meeting(updates_event_id=earlier.pk, update_action="reschedule")])
    extraction_apply(organization=org, email=email, extraction=moved)

    extraction_apply(organization=org, email=email, extraction=extraction(events=[]))

    earlier.refresh_from_db()
    assert (earlier.status, earlier.superseded_by_id) == (EventStatus.ACTIVE, None)
    assert not Event.objects.filter(email=email).exists()


def test_human_edits_win_over_re_processing(org):
    project = ProjectFactory()
    email = EmailFactory(project=project)
    [event] = extraction_apply(organization=org, email=email, extraction=extraction()).created_events
    Event.objects.filter(pk=event.pk).update(
        title="Site visit with the architect", date=dt.date(2026, 12, 11), edited=True
    )

    extraction_apply(organization=org, email=email, extraction=extraction())

    [kept] = Event.objects.filter(email=email)
    assert (kept.pk, kept.title, kept.date) == (event.pk, "Site visit with the architect", dt.date(2026, 12, 11))


def test_an_email_about_no_project_creates_nothing(org):
    count = Project.objects.count()

    result = extraction_apply(
        organization=org, email=EmailFactory(project=None), extraction=extraction(ProjectDecision(action="none"))
    )

    assert result.project is None and result.created_events == []
    assert Project.objects.count() == count


def test_new_project_slugs_stay_unique(org):
    ProjectFactory(slug="henderson-kitchen", name="Something else")

    result = extraction_apply(organization=org, email=EmailFactory(project=None), extraction=extraction())

    assert result.project.slug == "henderson-kitchen-2"


def test_a_thread_of_five_emails_lands_in_one_project_with_dated_events(org):
    """The demo path with the real rules provider: context → extract → apply, email after email."""
    from events.extraction_inputs import context_build, email_input_build
    from extraction.api import extract

    start = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    bodies = [
        (
            "Kitchen renovation at 14 Elm Road",
            "Hi Tom,\n\nWe've decided to go ahead. Could you come by on Thursday at 4pm to measure up?\n\nSarah",
        ),
        ("Re: Kitchen renovation at 14 Elm Road", "Hi Sarah,\n\nThe deposit is £3,000, payable by 13 November.\n\nTom"),
        ("Re: Kitchen renovation at 14 Elm Road", "Deposit of £3,000 paid today."),
        (
            "Re: Kitchen renovation at 14 Elm Road",
            "Demolition starts on Monday 30 November. Cabinets are delivered on 8 December.",
        ),
        ("Re: Kitchen renovation at 14 Elm Road", "Can we move the cabinet delivery to Thursday 10 December?"),
    ]
    previous: list[str] = []
    projects = set()
    for index, (subject, text) in enumerate(bodies):
        message_id = f"<k{index}@hendersonfamily.co.uk>"
        email = EmailFactory(
            project=None,
            message_id=message_id,
            subject=subject,
            text=text,
            from_address="sarah@hendersonfamily.co.uk" if index != 1 else "tom@brightline.studio",
            to=["tom@brightline.studio"] if index != 1 else ["sarah@hendersonfamily.co.uk"],
            date=start + dt.timedelta(days=index * 3),
            in_reply_to=previous[-1] if previous else "",
            references=list(previous),
        )
        result = extraction_apply(
            organization=org, email=email, extraction=extract(email_input_build(email), context_build(email))
        )
        email.project = result.project  # what the worker stores after applying
        email.save(update_fields=["project"])
        projects.add(result.project.pk)
        previous.append(message_id)

    [project_id] = projects
    timeline = Event.objects.filter(project_id=project_id).order_by("date", "pk")
    assert [(e.kind, e.date, e.status) for e in timeline] == [
        ("decision", dt.date(2026, 11, 2), EventStatus.ACTIVE),
        ("meeting", dt.date(2026, 11, 5), EventStatus.ACTIVE),
        ("payment", dt.date(2026, 11, 13), EventStatus.ACTIVE),  # "paid today" settles it: no second payment
        ("milestone", dt.date(2026, 11, 30), EventStatus.ACTIVE),
        ("milestone", dt.date(2026, 12, 8), EventStatus.SUPERSEDED),
        ("milestone", dt.date(2026, 12, 10), EventStatus.ACTIVE),
    ]
    assert Project.objects.get(pk=project_id).name == "Kitchen renovation at 14 Elm Road"
    assert Event.objects.get(project_id=project_id, kind="payment").done is True


def test_a_project_created_meanwhile_by_another_worker_is_reused(org, monkeypatch):
    # The other worker's row exists but our slug check ran before it: simulate by hiding it once.
    # Not open, so the name match before creation does not see it; only the slug collides.
    rival = ProjectFactory(name="Henderson kitchen", slug="henderson-kitchen", status=ProjectStatus.COMPLETED)
    monkeypatch.setattr("projects.services.project_slug_unique", lambda name: "henderson-kitchen")
    count = Project.objects.count()

    result = extraction_apply(
        organization=org,
        email=EmailFactory(project=None),
        extraction=extraction(ProjectDecision(action="new", name="Henderson kitchen", confidence=0.9)),
    )

    assert (result.project, result.project_created) == (rival, False)
    assert Project.objects.count() == count


def test_a_first_run_does_not_look_for_an_earlier_run_to_undo(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    email = EmailFactory(project=None)

    with CaptureQueriesContext(connection) as captured:
        result = extraction_apply(organization=org, email=email, extraction=extraction(), first_run=True)

    assert [e.title for e in result.created_events] == ["Site visit"]
    touching_events = [q["sql"] for q in captured.captured_queries if '"events_event"' in q["sql"]]
    # The project's events the new ones may repeat, then the INSERT (with its history row in the
    # same statement); nothing reads the email's own events.
    lookup, *inserts = touching_events
    assert '"events_event"."email_id"' not in lookup.split("WHERE")[1]
    assert inserts
    assert all('INSERT INTO "events_event"' in sql and 'FROM "events_event"' not in sql for sql in inserts)


def proposed_then_confirmed(org: Any, first: ExtractedEvent, second: ExtractedEvent) -> tuple[Any, Any, Any]:
    """Email 1 of a project proposes `first`; email 2, a reply, mentions `second`. Returns both emails and
    the second apply's result."""
    project = ProjectFactory()
    proposal, reply = EmailFactory(project=project), EmailFactory(project=project)
    extraction_apply(organization=org, email=proposal, extraction=extraction(events=[first]))
    return proposal, reply, extraction_apply(organization=org, email=reply, extraction=extraction(events=[second]))


def timeline(project_id: int) -> list[tuple[str, dt.date | None, dt.time | None, str]]:
    events = Event.objects.filter(project_id=project_id, deleted_at__isnull=True).order_by("date", "time", "pk")
    return [(e.kind, e.date, e.time, e.status) for e in events]


def test_a_reply_confirming_a_meeting_adds_no_twin_and_records_the_confirmation(org):
    proposal, reply, result = proposed_then_confirmed(
        org,
        meeting(title="Kickoff meeting", evidence="Can we do a kickoff meeting next Tuesday at 10am?", confidence=0.7),
        meeting(title="Meeting", evidence="Tuesday at 10am works, I've sent an invite.", confidence=0.9),
    )

    [kickoff] = Event.objects.filter(project=result.project)
    assert (kickoff.email_id, kickoff.title, kickoff.confidence) == (proposal.pk, "Kickoff meeting", 0.7)
    assert (result.created_events, result.updated_events, result.confirmed_events) == ([], [], [kickoff])
    confirmation = EventHistory.objects.get(event=kickoff, action="confirmed")
    assert (confirmation.email, confirmation.note) == (reply, "Tuesday at 10am works, I've sent an invite.")
    assert confirmation.after == {"confidence": 0.9}


def test_a_confirmation_and_its_withdrawal_each_mark_the_event_changed(org):
    project = ProjectFactory()
    proposal, reply = EmailFactory(project=project), EmailFactory(project=project)
    extraction_apply(organization=org, email=proposal, extraction=extraction(events=[meeting()]))
    [event] = Event.objects.filter(project=project)
    long_ago = timezone.now() - dt.timedelta(days=3)

    Event.objects.filter(pk=event.pk).update(updated_at=long_ago)
    extraction_apply(organization=org, email=reply, extraction=extraction(events=[meeting()]), first_run=True)
    assert Event.objects.get(pk=event.pk).updated_at > long_ago  # confirmed

    Event.objects.filter(pk=event.pk).update(updated_at=long_ago)
    extraction_apply(organization=org, email=reply, extraction=extraction(events=[]))
    assert Event.objects.get(pk=event.pk).updated_at > long_ago  # no longer confirmed


def test_each_email_that_says_an_event_makes_it_surer(org):
    _, _, result = proposed_then_confirmed(org, meeting(confidence=0.45), meeting(confidence=0.45))

    [event] = Event.objects.filter(project=result.project)

    assert event.confidence == 0.45  # the first email's own reading is kept as it was
    assert event.corroborated_confidence == pytest.approx(1 - 0.55 * 0.55)


def test_a_persons_event_is_as_sure_as_they_made_it_whatever_confirms_it(org):
    project = ProjectFactory()
    by_hand = EventFactory(
        project=project, email=None, provider="manual", kind="meeting", date=DAY, time=dt.time(10, 0)
    )
    Event.objects.filter(pk=by_hand.pk).update(confidence=0.5)
    extraction_apply(
        organization=org, email=EmailFactory(project=project), extraction=extraction(events=[meeting(confidence=0.9)])
    )

    assert Event.objects.get(pk=by_hand.pk).corroborated_confidence == 0.5


def test_a_meeting_at_another_time_or_of_another_kind_is_a_new_event(org):
    _, _, later = proposed_then_confirmed(org, meeting(), meeting(time=dt.time(14, 0)))
    _, _, deadline = proposed_then_confirmed(org, meeting(), meeting(kind="deadline", title="Drawings due"))

    assert timeline(later.project.pk) == [
        ("meeting", DAY, dt.time(10, 0), EventStatus.ACTIVE),
        ("meeting", DAY, dt.time(14, 0), EventStatus.ACTIVE),
    ]
    assert [e.kind for e in deadline.created_events] == ["deadline"]
    assert later.confirmed_events == deadline.confirmed_events == []


def test_undated_events_are_never_merged(org):
    chore = meeting(kind="action_item", title="Send the logo files", date=None, time=None)

    _, _, result = proposed_then_confirmed(org, chore, chore)

    assert [e.title for e in Event.objects.filter(project=result.project)] == ["Send the logo files"] * 2
    assert result.confirmed_events == []


def test_untimed_events_of_a_day_merge_only_with_the_same_title(org):
    drawings = meeting(kind="deadline", title="Drawings due", time=None)

    _, _, same = proposed_then_confirmed(org, drawings, meeting(kind="deadline", title="drawings DUE", time=None))
    _, _, other = proposed_then_confirmed(org, drawings, meeting(kind="deadline", title="Contract due", time=None))

    assert [e.title for e in same.confirmed_events] == ["Drawings due"]
    assert [e.title for e in Event.objects.filter(project=other.project).order_by("pk")] == [
        "Drawings due",
        "Contract due",
    ]


def test_payments_on_the_same_day_merge_only_with_the_same_amount(org):
    def deposit(amount: str) -> ExtractedEvent:
        return meeting(kind="payment", title="Deposit", time=None, amount=Decimal(amount), currency="USD")

    _, _, same = proposed_then_confirmed(org, deposit("2400"), deposit("2400.00"))
    _, _, other = proposed_then_confirmed(org, deposit("2400"), deposit("3600"))

    assert [e.amount for e in same.confirmed_events] == [Decimal("2400.00")]
    assert [e.amount for e in other.created_events] == [Decimal("3600.00")]


def test_only_an_active_event_is_confirmed(org):
    project = ProjectFactory()
    for status in (EventStatus.CANCELLED, EventStatus.SUPERSEDED):
        EventFactory(project=project, date=DAY, time=dt.time(10, 0), status=status)
    EventFactory(project=project, date=DAY, time=dt.time(10, 0), deleted_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))

    result = extraction_apply(organization=org, email=EmailFactory(project=project), extraction=extraction())

    assert result.confirmed_events == []
    assert [e.status for e in result.created_events] == [EventStatus.ACTIVE]


def test_a_meeting_in_another_project_is_not_confirmed(org):
    EventFactory(project=ProjectFactory(), date=DAY, time=dt.time(10, 0))

    result = extraction_apply(organization=org, email=EmailFactory(project=ProjectFactory()), extraction=extraction())

    assert (len(result.created_events), result.confirmed_events) == (1, [])


def test_a_meeting_added_by_hand_or_edited_is_confirmed_and_keeps_the_persons_changes(org):
    project = ProjectFactory()
    by_hand = EventFactory(
        project=project, title="Kickoff", date=DAY, time=dt.time(10, 0), provider="manual", edited=True
    )

    result = extraction_apply(organization=org, email=EmailFactory(project=project), extraction=extraction())

    assert result.confirmed_events == [by_hand]
    [kept] = Event.objects.filter(project=project)
    assert (kept.pk, kept.title, kept.email_id, kept.edited) == (by_hand.pk, "Kickoff", None, True)


def test_a_cancellation_whose_event_is_gone_confirms_nothing(org):
    project = ProjectFactory()
    gone = EventFactory(project=project, date=DAY, time=dt.time(10, 0), status=EventStatus.CANCELLED)
    twin = EventFactory(project=project, date=DAY, time=dt.time(10, 0))

    extraction_apply(
        organization=org,
        email=EmailFactory(project=project),
        extraction=extraction(events=[meeting(updates_event_id=gone.pk, update_action="cancel")]),
    )

    assert not EventHistory.objects.filter(event=twin, action="confirmed").exists()


def test_a_reschedule_to_a_new_time_still_supersedes_the_earlier_meeting(org):
    project = ProjectFactory()
    earlier = EventFactory(project=project, date=DAY, time=dt.time(10, 0), email=EmailFactory(project=project))

    result = extraction_apply(
        organization=org,
        email=EmailFactory(project=project),
        extraction=extraction(
            events=[meeting(time=dt.time(14, 0), updates_event_id=earlier.pk, update_action="reschedule")]
        ),
    )

    assert result.confirmed_events == []
    assert timeline(project.pk) == [
        ("meeting", DAY, dt.time(10, 0), EventStatus.SUPERSEDED),
        ("meeting", DAY, dt.time(14, 0), EventStatus.ACTIVE),
    ]


def test_re_processing_the_confirming_email_twice_gives_the_same_timeline(org):
    proposal, reply, result = proposed_then_confirmed(org, meeting(), meeting(title="Meeting"))
    once = timeline(result.project.pk)

    for _ in range(2):
        again = extraction_apply(
            organization=org, email=reply, extraction=extraction(events=[meeting(title="Meeting")])
        )

    assert timeline(result.project.pk) == once
    [kickoff] = again.confirmed_events
    assert kickoff.email_id == proposal.pk
    assert list(EventHistory.objects.filter(event=kickoff).values_list("action", "email")) == [
        ("created", proposal.pk),
        ("confirmed", reply.pk),
    ]


def test_re_processing_a_reply_that_no_longer_confirms_drops_its_confirmation(org):
    _, reply, result = proposed_then_confirmed(org, meeting(), meeting())

    extraction_apply(organization=org, email=reply, extraction=extraction(events=[]))

    assert not EventHistory.objects.filter(action="confirmed").exists()
    assert len(timeline(result.project.pk)) == 1


def test_re_processing_the_proposal_keeps_the_meeting_its_reply_confirmed(org):
    proposal, reply, result = proposed_then_confirmed(
        org, meeting(evidence="Kickoff on Friday at 10am?"), meeting(evidence="Friday at 10am works.", confidence=0.6)
    )
    once = timeline(result.project.pk)

    extraction_apply(organization=org, email=proposal, extraction=extraction(events=[]))

    # The reply still mentions it: the meeting passes to the reply rather than vanish.
    [kept] = Event.objects.filter(project=result.project)
    assert (kept.email_id, kept.evidence, kept.confidence) == (reply.pk, "Friday at 10am works.", 0.6)
    assert not EventHistory.objects.filter(action="confirmed").exists()

    for _ in range(2):  # and the proposal, processed as at first, confirms it again
        extraction_apply(
            organization=org,
            email=proposal,
            extraction=extraction(events=[meeting(evidence="Kickoff on Friday at 10am?")]),
        )
    assert timeline(result.project.pk) == once
    assert list(EventHistory.objects.filter(action="confirmed").values_list("event", "email")) == [
        (kept.pk, proposal.pk)
    ]


def test_re_processing_the_proposal_of_a_confirmed_reschedule_does_not_reschedule_twice(org):
    project = ProjectFactory()
    earlier = EventFactory(project=project, date=DAY, time=dt.time(9, 0), email=EmailFactory(project=project))
    move, reply = EmailFactory(project=project), EmailFactory(project=project)
    moved = extraction(events=[meeting(updates_event_id=earlier.pk, update_action="reschedule")])
    extraction_apply(organization=org, email=move, extraction=moved)
    extraction_apply(organization=org, email=reply, extraction=extraction())
    once = timeline(project.pk)

    extraction_apply(organization=org, email=move, extraction=moved)

    assert (
        timeline(project.pk)
        == once
        == [
            ("meeting", DAY, dt.time(9, 0), EventStatus.SUPERSEDED),
            ("meeting", DAY, dt.time(10, 0), EventStatus.ACTIVE),
        ]
    )


def test_the_confirmation_lookup_is_one_query_for_all_the_events_of_an_email(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project = ProjectFactory()
    email = EmailFactory(project=project)
    many = [meeting(date=DAY + dt.timedelta(days=n), evidence=f"Meeting {n}") for n in range(6)]

    def reads(events: list[ExtractedEvent]) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            extraction_apply(organization=org, email=email, extraction=extraction(events=events), first_run=True)
        return [q["sql"] for q in captured.captured_queries if 'FROM "events_event"' in q["sql"]]

    assert len(reads(many)) == 1
    assert reads([meeting(kind="action_item", date=None, time=None)]) == []  # undated: nothing to look up


# --- suggestions: events less sure than PROJECTR_EVENT_SUGGESTION_THRESHOLD (Event.suggested) ---


def test_an_event_below_the_threshold_is_stored_as_a_suggestion(org):
    email = EmailFactory(project=ProjectFactory())
    events = [
        meeting(title="Weak", evidence="Maybe Friday?", confidence=0.45),
        meeting(title="At the threshold", evidence="Friday works.", confidence=0.5),
        meeting(title="Dated", evidence="Friday 4 December.", confidence=0.6, date=DAY + dt.timedelta(days=1)),
    ]

    result = extraction_apply(organization=org, email=email, extraction=extraction(events=events))

    assert [(e.title, e.suggested) for e in result.created_events] == [
        ("Weak", True),
        ("At the threshold", False),
        ("Dated", False),
    ]
    stored = dict(Event.objects.filter(email=email).values_list("title", "suggested"))
    assert stored == {"Weak": True, "At the threshold": False, "Dated": False}
    # A suggestion keeps its provenance and its "created" row like any other event.
    assert EventHistory.objects.filter(event__title="Weak", action="created", email=email).exists()


def test_the_threshold_is_a_setting(org, settings):
    settings.PROJECTR_EVENT_SUGGESTION_THRESHOLD = 0.7
    email = EmailFactory(project=ProjectFactory())

    result = extraction_apply(organization=org, email=email, extraction=extraction(events=[meeting(confidence=0.6)]))

    assert [e.suggested for e in result.created_events] == [True]


def test_a_reply_that_confirms_a_suggestion_makes_it_an_event_like_any_other(org):
    proposal, reply, result = proposed_then_confirmed(
        org, meeting(confidence=0.45), meeting(evidence="Friday at 10 works.", confidence=0.45)
    )

    [event] = Event.objects.filter(project=result.project)
    assert (event.email_id, event.suggested, event.edited) == (proposal.pk, False, False)
    assert result.confirmed_events == [event]
    accepted = EventHistory.objects.get(event=event, action="accepted")
    assert (accepted.email, accepted.actor) == (reply, None)


def test_confirming_an_event_that_is_no_suggestion_adds_no_accepted_row(org):
    _, _, result = proposed_then_confirmed(org, meeting(confidence=0.8), meeting(confidence=0.45))

    [event] = Event.objects.filter(project=result.project)
    assert event.suggested is False
    assert list(event.history.values_list("action", flat=True)) == ["created", "confirmed"]


def test_a_move_of_an_event_on_the_timeline_is_never_a_suggestion(org):
    project = ProjectFactory()
    earlier = EventFactory(project=project, date=dt.date(2026, 12, 1), email=EmailFactory(project=project))
    moved = meeting(updates_event_id=earlier.pk, update_action="reschedule", confidence=0.3)

    result = extraction_apply(
        organization=org, email=EmailFactory(project=project), extraction=extraction(events=[moved])
    )

    [new] = result.created_events
    assert (new.suggested, new.status) == (False, EventStatus.ACTIVE)
    earlier.refresh_from_db()
    assert earlier.superseded_by_id == new.pk


def test_re_processing_keeps_an_accepted_suggestion_and_never_brings_back_a_dismissed_one(org, world):
    from events.services import event_suggestion_accept, event_suggestion_dismiss

    email = EmailFactory(project=ProjectFactory())
    weak = extraction(
        events=[
            meeting(title="Walk-through", evidence="A walk-through maybe?", confidence=0.45),
            meeting(title="Drinks", evidence="Drinks after?", confidence=0.45, kind="action_item", date=None),
        ]
    )
    walk, drinks = extraction_apply(organization=org, email=email, extraction=weak).created_events
    event_suggestion_accept(event=walk, actor=world.member)
    event_suggestion_dismiss(event=drinks, actor=world.member)

    extraction_apply(organization=org, email=email, extraction=weak)

    live = Event.objects.filter(email=email, deleted_at__isnull=True)
    assert [(e.pk, e.title, e.suggested) for e in live] == [(walk.pk, "Walk-through", False)]
    assert Event.objects.filter(email=email).count() == 2  # the dismissed one stays dismissed, not twinned


def test_through_the_pipeline_an_undated_request_is_a_suggestion_and_a_dated_meeting_is_not(world, tmp_path):
    from email.message import EmailMessage
    from io import StringIO

    from django.core.management import call_command

    from projects.models import ProjectSignal

    project = ProjectFactory(name="Harbour Foods rebrand", client_name="Harbour Foods")
    ProjectSignal.objects.create(project=project, kind="sender", value="pat@harbourfoods.example")
    message = EmailMessage()
    message["From"] = "Pat Lee <pat@harbourfoods.example>"
    message["To"] = "testorg@in.projectr.example"
    message["Subject"] = "Rebrand: next steps"
    message["Date"] = "Mon, 07 Dec 2026 09:00:00 +0000"
    message["Message-ID"] = "<next-steps@harbourfoods.example>"
    message.set_content(
        "Hi,\n\nThe design review is on Thursday 10 December at 14:00.\n\n"
        "Could you send us the revised logo files?\n\nPat\n"
    )
    path = tmp_path / "next-steps.eml"
    path.write_bytes(bytes(message))

    call_command(
        "ingest_eml",
        "--org",
        "testorg",
        "--sync",
        "--skip-sender-check",
        str(path),
        stdout=StringIO(),
        stderr=StringIO(),
    )

    events = {e.kind: e for e in Event.objects.filter(project=project)}
    assert (events["meeting"].date, events["meeting"].suggested) == (dt.date(2026, 12, 10), False)
    assert (events["action_item"].date, events["action_item"].confidence) == (None, 0.45)
    assert events["action_item"].suggested is True


def test_a_payment_reported_paid_settles_the_open_one_and_re_processing_reopens_it(org):
    project = ProjectFactory()
    due = EventFactory(project=project, kind="payment", date=DAY, email=EmailFactory(project=project))
    report = EmailFactory(project=project)
    paid = meeting(kind="payment", title="Invoice paid", updates_event_id=due.pk, update_action="paid")

    result = extraction_apply(organization=org, email=report, extraction=extraction(events=[paid]))

    due.refresh_from_db()
    assert (due.done, result.created_events) == (True, [])
    assert Event.objects.filter(project=project, kind="payment").count() == 1
    history = EventHistory.objects.get(event=due, action="paid", email=report)
    assert history.after["paid_on"] == DAY.isoformat()

    extraction_apply(organization=org, email=report, extraction=extraction(events=[]))

    due.refresh_from_db()
    assert due.done is False
