"""context_build / email_input_build: what extraction gets to see, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from events.extraction_inputs import OpenProjects, context_build, email_input_build
from events.models import EventStatus
from organizations.models import Membership, Role
from projects.models import ProjectAlias, ProjectStatus
from tests.conftest import make_user
from tests.factories import AttachmentFactory, EmailFactory, EventFactory, ProjectFactory


def test_it_builds_the_email_input_from_the_row(org):
    email = EmailFactory(headers=[["Auto-Submitted", "no"]], references=["<a@x>"], project_hint="loft")
    AttachmentFactory(email=email, filename="plan.pdf")

    data = email_input_build(email)

    assert (data.message_id, data.subject, data.project_hint) == (email.message_id, email.subject, "loft")
    assert data.headers == [("Auto-Submitted", "no")]
    assert data.attachment_names == ["plan.pdf"]


def test_it_lists_open_projects_with_aliases_and_recent_subjects(org):
    kitchen = ProjectFactory(name="Henderson kitchen")
    ProjectAlias.objects.create(project=kitchen, alias="HK-24")
    EmailFactory(project=kitchen, subject="Tiles for the kitchen")
    ProjectFactory(name="Finished job", status=ProjectStatus.COMPLETED)

    context = context_build(EmailFactory(project=None))

    refs = {p.name: p for p in context.projects}
    assert "Finished job" not in refs
    assert refs["Henderson kitchen"].aliases == ["HK-24"]
    assert refs["Henderson kitchen"].recent_subjects == ["Tiles for the kitchen"]


def test_it_gives_the_thread_and_the_threads_recent_events(org):
    project, other = ProjectFactory(), ProjectFactory()
    root = EmailFactory(project=project, message_id="<root@x>", subject="Kitchen")
    upcoming = EventFactory(project=project, date=timezone.localdate() + dt.timedelta(days=3))
    EventFactory(project=project, status=EventStatus.CANCELLED)
    EventFactory(project=other)
    email = EmailFactory(project=None, in_reply_to="<root@x>", references=["<root@x>"])

    context = context_build(email)

    assert [(t.message_id, t.project_id) for t in context.thread] == [(root.message_id, project.pk)]
    assert [e.id for e in context.recent_events] == [upcoming.pk]


def test_recent_events_are_the_first_active_undeleted_ones_from_sixty_days_back_in_date_order(org):
    from events.extraction_inputs import MAX_RECENT_EVENTS

    project, other = ProjectFactory(), ProjectFactory()
    email = EmailFactory(project=None)
    today = email.date.date()
    EventFactory(project=project, date=today - dt.timedelta(days=61))
    EventFactory(project=project, date=today, deleted_at=timezone.now())
    kept = [
        EventFactory(project=(project, other)[n % 2], date=today - dt.timedelta(days=60) + dt.timedelta(days=n))
        for n in range(MAX_RECENT_EVENTS + 2)
    ]

    context = context_build(email)

    assert [e.id for e in context.recent_events] == [e.pk for e in kept[:MAX_RECENT_EVENTS]]
    assert (context.recent_events[0].project_id, context.recent_events[0].date) == (project.pk, kept[0].date)


def test_it_names_the_organizations_own_domains_but_not_personal_ones(org):
    for address in ("ann@studio.example", "bo@gmail.com"):
        Membership.objects.create(user=make_user(address), organization=org, role=Role.MEMBER)

    context = context_build(EmailFactory(project=None))

    assert "studio.example" in context.organization_domains
    assert "gmail.com" not in context.organization_domains


def test_it_runs_a_fixed_number_of_queries(org, django_assert_num_queries):
    email = EmailFactory(project=None, in_reply_to="<root@x>", references=["<root@x>"])
    for index in range(2):
        project = ProjectFactory()
        ProjectAlias.objects.create(project=project, alias=f"alias {index}")
        EmailFactory(project=project)
        EventFactory(project=project)
    # projects, aliases, taught signals, member domains, recent mail, thread, events
    with django_assert_num_queries(7):
        context_build(email)
    for index in range(5):
        project = ProjectFactory()
        ProjectAlias.objects.create(project=project, alias=f"more {index}")
        EmailFactory(project=project)
        EventFactory(project=project)

    with django_assert_num_queries(7):
        context = context_build(email)

    assert len(context.projects) >= 7


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_batch_reads_the_open_projects_once_for_many_emails(org, django_assert_num_queries):
    ProjectFactory(name="Henderson kitchen")
    open_projects = OpenProjects(clock=Clock())
    context_build(EmailFactory(project=None), open_projects)
    email = EmailFactory(project=None)

    with django_assert_num_queries(1):  # only the email's own: recent events (no thread)
        context = context_build(email, open_projects)

    assert "Henderson kitchen" in [p.name for p in context.projects]


def test_the_shared_reading_gives_the_same_context_as_a_fresh_one(org):
    kitchen = ProjectFactory(name="Henderson kitchen")
    ProjectAlias.objects.create(project=kitchen, alias="HK-24")
    EmailFactory(project=kitchen, subject="Tiles", from_address="tom@studio.example")
    EmailFactory(project=ProjectFactory(), subject="Roof", from_address="maya@studio.example")
    email = EmailFactory(project=kitchen, subject="Its own subject")  # filed before: re-processing

    shared = context_build(email, OpenProjects(clock=Clock()))

    assert shared == context_build(email)
    assert "Its own subject" not in next(p for p in shared.projects if p.id == kitchen.pk).recent_subjects


def test_each_email_of_a_batch_gets_the_context_a_fresh_reading_gives(org):
    kitchen = ProjectFactory(name="Henderson kitchen")
    ProjectAlias.objects.create(project=kitchen, alias="HK-24")
    EmailFactory(project=kitchen, subject="Tiles", from_address="tom@studio.example")
    EmailFactory(project=ProjectFactory(), subject="Roof", from_address="tom@studio.example")
    filed = EmailFactory(project=kitchen, subject="Its own subject")  # among the recent rows
    new = EmailFactory(project=None, subject="New mail")
    open_projects = OpenProjects(clock=Clock())

    contexts = {email.pk: context_build(email, open_projects) for email in (new, filed, new, filed)}

    assert contexts == {email.pk: context_build(email) for email in (new, filed)}
    subjects = {pk: next(p for p in c.projects if p.id == kitchen.pk).recent_subjects for pk, c in contexts.items()}
    assert ("Its own subject" in subjects[new.pk], "Its own subject" in subjects[filed.pk]) == (True, False)
    assert contexts[new.pk].organization_domains == ["studio.example"]


def test_a_project_created_by_an_earlier_email_of_the_batch_is_seen_at_once(org):
    open_projects = OpenProjects(clock=Clock())
    context_build(EmailFactory(project=None), open_projects)

    ProjectFactory(name="Harbour Street kitchen")
    open_projects.changed()

    assert "Harbour Street kitchen" in [
        p.name for p in context_build(EmailFactory(project=None), open_projects).projects
    ]


def test_the_shared_reading_is_read_again_once_old(org):
    clock = Clock()
    open_projects = OpenProjects(max_age=2.0, clock=clock)
    context_build(EmailFactory(project=None), open_projects)
    ProjectFactory(name="Made by a person meanwhile")

    clock.now = 2.0

    assert "Made by a person meanwhile" in [
        p.name for p in context_build(EmailFactory(project=None), open_projects).projects
    ]


def test_a_company_domain_writing_in_two_projects_is_taken_as_ours(org):
    first, second = ProjectFactory(), ProjectFactory()
    EmailFactory(project=first, from_address="tom@studio.example")
    EmailFactory(project=second, from_address="maya@studio.example")
    EmailFactory(project=first, from_address="client@one.example")

    context = context_build(EmailFactory(project=None))

    assert "studio.example" in context.organization_domains
    assert "one.example" not in context.organization_domains
    assert context.organization_name == org.name


def test_the_email_input_keeps_the_senders_own_offset(org):
    email = EmailFactory(
        date=dt.datetime(2026, 11, 8, 20, 30, tzinfo=dt.UTC),
        headers=[["Date", "Mon, 09 Nov 2026 07:30:00 +1100"]],
    )

    sent = email_input_build(email).date

    assert sent is not None and sent.date() == dt.date(2026, 11, 9)
    assert sent.utcoffset() == dt.timedelta(hours=11)


def test_the_email_input_falls_back_to_the_stored_date(org):
    email = EmailFactory(date=None, headers=[["Date", "garbage"]])

    assert email_input_build(email).date == email.received_at


def test_the_thread_is_every_other_email_of_it_once_in_date_order_as_stored(org):
    now = timezone.now()
    later = EmailFactory(message_id="<b@x>", date=now - dt.timedelta(hours=1), subject="Re: Kitchen")
    first = EmailFactory(message_id="<a@x>", date=now - dt.timedelta(days=2), project=None, subject="Kitchen")
    EmailFactory(message_id="<elsewhere@x>")
    email = EmailFactory(
        message_id="<c@x>", project=None, in_reply_to="<b@x>", references=["<a@x>", "<b@x>", "<c@x>", "<gone@x>"]
    )

    context = context_build(email)

    assert [(t.message_id, t.subject, t.project_id, t.date) for t in context.thread] == [
        (e.message_id, e.subject, e.project_id, e.date) for e in (first, later)
    ]
