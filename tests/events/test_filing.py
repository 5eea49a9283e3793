"""Filing by hand (events/filing.py): unsure mail waits Unfiled with its events, a person files,
moves or dismisses it, every answer teaches, and each filing can be undone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from events.apply import extraction_apply
from events.filing import FilingError, email_file, email_filing_undo
from events.models import EmailFiling, Event, EventHistory, FilingState
from extraction.types import Candidate, ExtractedEvent, Extraction, ProjectDecision
from projects.models import Project, ProjectSignal
from tests.factories import EmailFactory, ProjectFactory

DAY = dt.date(2026, 12, 4)


def unsure(
    project_id: int | None = None,
    *,
    name: str = "Crumb & Co – newsletter migration",
    client_email: str = "maria@crumbandco.example",
) -> Extraction:
    return Extraction(
        project=ProjectDecision(
            action="new",
            name=name,
            client_name="Crumb & Co",
            client_email=client_email,
            confidence=0.4,
            candidates=[
                Candidate(project_id=None, score=0.4, name=name, client_name="Crumb & Co", client_email=client_email),
                *([Candidate(project_id=project_id, score=0.3)] if project_id else []),
            ],
        ),
        events=[
            ExtractedEvent(kind="meeting", title="Kickoff", date=DAY, evidence="Kickoff on Friday.", confidence=0.8)
        ],
        summary="Kickoff on Friday.",
        usage=[],
        provider="rules",
        model="rules",
    )


def process(org, email, extraction: Extraction) -> None:
    """As the worker does: apply, then record the result on the email."""
    from events.apply import suggestions_of

    with transaction.atomic():
        result = extraction_apply(organization=org, email=email, extraction=extraction, first_run=True)
    email.project = result.project
    email.filing = result.filing
    email.filing_confidence = extraction.project.confidence
    email.suggestions = suggestions_of(extraction) if result.filing == FilingState.UNFILED else []
    email.waiting = result.waiting
    email.save()


def unfiled_email(org, name: str = "Crumb & Co – newsletter migration", **kw):
    kw.setdefault("from_address", "maria@crumbandco.example")
    kw.setdefault("subject", "Newsletter migration kickoff")
    email = EmailFactory(project=None, **kw)
    process(org, email, unsure(name=name, client_email=kw["from_address"]))
    return email


def test_an_unsure_email_waits_unfiled_with_its_events_off_every_timeline(org):
    email = unfiled_email(org)

    email.refresh_from_db()
    assert (email.project_id, email.filing) == (None, FilingState.UNFILED)
    assert [e["title"] for e in email.waiting["events"]] == ["Kickoff"]
    assert email.suggestions[0]["name"] == "Crumb & Co – newsletter migration"
    assert not Event.objects.filter(email=email).exists()


def test_filing_an_unfiled_email_puts_its_events_on_the_project_and_teaches_its_sender(org):
    email = unfiled_email(org)
    project = ProjectFactory(name="Crumb & Co – newsletter migration")

    email_file(email=email, project=project)

    email.refresh_from_db()
    assert (email.project_id, email.filing) == (project.pk, FilingState.HAND)
    assert list(Event.objects.filter(email=email).values_list("project_id", "title")) == [(project.pk, "Kickoff")]
    taught = set(ProjectSignal.objects.filter(project=project).values_list("kind", "value"))
    assert {("sender", "maria@crumbandco.example"), ("domain", "crumbandco.example")} <= taught
    assert ("word", "newsletter") in taught


def test_filing_one_email_files_the_waiting_mail_of_the_same_sender(org):
    first, second = unfiled_email(org), unfiled_email(org, name="Crumb & Co – loyalty cards")
    project = ProjectFactory()

    email_file(email=first, project=project)

    second.refresh_from_db()
    assert (second.project_id, second.filing, second.filing_reason) == (
        project.pk,
        FilingState.AUTO,
        "taught: this sender",
    )
    # The same kickoff said again: confirmed, not a twin.
    assert Event.objects.filter(project=project).count() == 1
    assert EventHistory.objects.filter(email=second, action="confirmed").exists()


def test_a_new_project_from_the_unfiled_list_is_created_through_the_one_creation_service(org):
    email = unfiled_email(org)

    project = email_file(email=email, new_project={"name": "Newsletter migration", "client": "Crumb & Co"})

    assert project is not None
    assert (project.name, project.client_name) == ("Newsletter migration", "Crumb & Co")
    assert Event.objects.get(email=email).project_id == project.pk


def test_moving_a_filed_email_moves_its_events_with_history_and_undo_moves_them_back(org):
    source, target = ProjectFactory(name="Newstead fit-out"), ProjectFactory(name="Paddington fit-out")
    email = EmailFactory(project=source, from_address="site@corella.example", subject="Paddington joinery")
    event = Event.objects.create(project=source, email=email, kind="meeting", title="Joinery", date=DAY)

    email_file(email=email, project=target)

    event.refresh_from_db()
    assert event.project_id == target.pk
    assert EventHistory.objects.filter(event=event, action="moved").count() == 1
    assert ProjectSignal.objects.filter(project=target, kind="word", value="paddington").exists()

    email_filing_undo(filing=EmailFiling.objects.get(email=email))

    event.refresh_from_db()
    email.refresh_from_db()
    assert (event.project_id, email.project_id) == (source.pk, source.pk)
    assert not ProjectSignal.objects.filter(project=target).exists()


def test_not_project_mail_takes_its_events_off_and_undo_brings_them_back(org):
    project = ProjectFactory()
    email = EmailFactory(project=project)
    Event.objects.create(project=project, email=email, kind="payment", title="Invoice", date=DAY, edited=True)

    email_file(email=email, not_project_mail=True)

    email.refresh_from_db()
    assert (email.project_id, email.filing) == (None, FilingState.NOT_PROJECT)
    assert not Event.objects.filter(email=email, deleted_at__isnull=True).exists()

    email_filing_undo(filing=EmailFiling.objects.get(email=email))

    assert Event.objects.filter(email=email, deleted_at__isnull=True, project=project).count() == 1


def test_only_the_latest_filing_can_be_undone(org):
    email = unfiled_email(org)
    first, second = ProjectFactory(), ProjectFactory()
    email_file(email=email, project=first)
    email_file(email=email, project=second)

    with pytest.raises(FilingError):
        email_filing_undo(filing=EmailFiling.objects.filter(email=email).order_by("id").first())


def test_a_closed_project_cannot_take_mail(org):
    email = unfiled_email(org)
    closed = ProjectFactory(status="completed")

    with pytest.raises(FilingError):
        email_file(email=email, project=closed)

    assert Project.objects.filter(pk=closed.pk, emails=email).exists() is False


def test_a_reply_to_an_unfiled_email_waits_with_it_and_follows_when_it_is_filed(org):
    root = unfiled_email(org)
    elsewhere = ProjectFactory(name="Another client's project")
    reply = EmailFactory(project=None, in_reply_to=root.message_id, references=[root.message_id])
    sure_elsewhere = Extraction(
        project=ProjectDecision(action="existing", project_id=elsewhere.pk, confidence=0.75),
        events=[],
        summary="",
        usage=[],
        provider="rules",
        model="rules",
    )
    process(org, reply, sure_elsewhere)

    reply.refresh_from_db()
    assert (reply.project_id, reply.filing) == (None, FilingState.UNFILED)

    project = ProjectFactory()
    email_file(email=root, project=project)

    reply.refresh_from_db()
    assert (reply.project_id, reply.filing_reason) == (project.pk, "same thread")


# A new project that separate conversations agree on (events.apply._corroborating).


def a_client_we_work_for(address: str = "maria@crumbandco.example", name: str = "Crumb & Co – website") -> Project:
    return ProjectFactory(name=name, client_name="Crumb & Co", client_email=address)


def test_a_second_conversation_naming_the_same_new_thing_starts_the_project_and_files_both(org):
    a_client_we_work_for()
    first = unfiled_email(org)
    reply = EmailFactory(project=None, in_reply_to=first.message_id, references=[first.message_id])
    process(org, reply, unsure())  # waits with its thread
    second = unfiled_email(org, subject="Newsletter migration – templates")

    first.refresh_from_db()
    second.refresh_from_db()
    reply.refresh_from_db()
    project = Project.objects.get(name="Crumb & Co – newsletter migration")
    assert (first.project_id, first.filing) == (project.pk, FilingState.AUTO)
    assert first.filing_reason == "a new project that 2 separate conversations name"
    assert (second.project_id, second.filing) == (project.pk, FilingState.AUTO)
    assert (reply.project_id, reply.filing_reason) == (project.pk, "same thread")
    # The first email's waiting kickoff is on the project now; the second's repeats it.
    assert list(Event.objects.filter(project=project).values_list("email_id", "title")) == [(first.pk, "Kickoff")]


def test_conversations_of_one_client_about_different_things_keep_waiting(org):
    a_client_we_work_for()
    first = unfiled_email(org)
    second = unfiled_email(org, name="Crumb & Co – loyalty cards")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.filing, second.filing) == (FilingState.UNFILED, FilingState.UNFILED)
    assert list(Project.objects.filter(name__startswith="Crumb & Co").values_list("name", flat=True)) == [
        "Crumb & Co – website"
    ]


def test_the_same_topic_from_another_client_is_no_corroboration(org):
    a_client_we_work_for()
    a_client_we_work_for("ops@another-bakery.example", "Another bakery – shop")
    first = unfiled_email(org)
    second = unfiled_email(org, from_address="ops@another-bakery.example")

    second.refresh_from_db()
    assert second.filing == FilingState.UNFILED
    assert not Project.objects.filter(name="Crumb & Co – newsletter migration").exists()
    first.refresh_from_db()
    assert first.filing == FilingState.UNFILED


def test_the_same_person_at_a_personal_address_corroborates_but_not_another_person_there(org):
    a_client_we_work_for("maria.crumb@gmail.com")
    unfiled_email(org, from_address="maria.crumb@gmail.com")
    stranger = unfiled_email(org, from_address="someone.else@gmail.com")

    stranger.refresh_from_db()
    assert stranger.filing == FilingState.UNFILED

    unfiled_email(org, from_address="maria.crumb@gmail.com")

    assert Project.objects.filter(name="Crumb & Co – newsletter migration").exists()


def test_words_an_open_project_is_already_named_with_corroborate_nothing(org):
    ProjectFactory(name="Crumb & Co – newsletter migration phase 1")
    first = unfiled_email(org)
    second = unfiled_email(org)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.filing, second.filing) == (FilingState.UNFILED, FilingState.UNFILED)


def test_another_year_of_a_known_project_is_something_new(org):
    ProjectFactory(name="Fundação Atlântica – Oceano Vivo 2026", client_email="grants@fa.example")
    first = unfiled_email(org, name="Fundação Atlântica – Oceano Vivo 2027 application", from_address="a@fa.example")
    unfiled_email(org, name="Fundação Atlântica – Oceano Vivo 2027 panel interview", from_address="b@fa.example")

    first.refresh_from_db()
    assert first.project is not None
    assert first.project.name == "Fundação Atlântica – Oceano Vivo 2027 application"


def test_a_short_word_like_poc_is_not_enough_to_start_a_project(org):
    a_client_we_work_for()
    first = unfiled_email(org, name="Crumb & Co – SuiteAnalytics licence for the PoC")
    second = unfiled_email(org, name="Crumb & Co – PoC walkthrough")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.filing, second.filing) == (FilingState.UNFILED, FilingState.UNFILED)


def test_a_word_the_clients_own_project_mail_uses_is_not_something_new(org):
    ProjectFactory(name="Kōwhai – data warehouse", client_email="rebecca@kowhai.example")
    EmailFactory(project=Project.objects.get(name="Kōwhai – data warehouse"), subject="Dashboard mock-ups")
    unfiled_email(org, name="Kōwhai – dashboard walkthrough", from_address="a@kowhai.example")
    second = unfiled_email(org, name="Kōwhai – dashboard sign-off", from_address="b@kowhai.example")

    second.refresh_from_db()
    assert second.filing == FilingState.UNFILED


def test_someone_we_have_no_project_with_writing_twice_keeps_waiting(org):
    first = unfiled_email(org)
    second = unfiled_email(org)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.filing, second.filing) == (FilingState.UNFILED, FilingState.UNFILED)


def test_a_year_alone_is_no_new_thing_beside_a_project_without_one(org):
    a_client_we_work_for()
    unfiled_email(org, name="Crumb & Co – statement 2026")
    second = unfiled_email(org, name="Crumb & Co – loyalty 2026")

    second.refresh_from_db()
    assert second.filing == FilingState.UNFILED
