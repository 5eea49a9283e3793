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


def unsure(project_id: int | None = None) -> Extraction:
    return Extraction(
        project=ProjectDecision(
            action="new",
            name="Crumb & Co – newsletter migration",
            client_name="Crumb & Co",
            client_email="maria@crumbandco.example",
            confidence=0.4,
            candidates=[
                Candidate(
                    project_id=None, score=0.4, name="Crumb & Co – newsletter migration", client_name="Crumb & Co"
                ),
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


def unfiled_email(org, **kw):
    email = EmailFactory(
        project=None, from_address="maria@crumbandco.example", subject="Newsletter migration kickoff", **kw
    )
    process(org, email, unsure())
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
    first, second = unfiled_email(org), unfiled_email(org)
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
