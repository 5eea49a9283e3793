"""The daily digest as its schedule sends it: events' digest with the admins' section of mail that
waits for them (held for review, refused with the message kept), and the schedule itself."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from inbound import digest as digest_module
from inbound.digest import SCHEDULE_NAME, digest_send_all, digest_send_organization, schedules_ensure
from organizations.models import Organization
from tests.inbound.test_review import a_stranger
from tests.inbound.test_sender_authentication import spoofed_postmark


def by_recipient() -> dict[str, mail.EmailMessage]:
    return {message.to[0]: message for message in mail.outbox}


def test_admins_get_the_held_and_refused_mail_of_the_day_and_members_nothing_of_it(world, post_postmark, post_sns):
    post_postmark(spoofed_postmark())
    post_sns(a_stranger())

    sent = digest_send_organization(world.org.schema_name)

    # Nothing changed on a timeline: only the admins have something to read.
    assert sent == 2
    messages = by_recipient()
    assert set(messages) == {world.owner.email, world.admin.email}
    message = messages[world.admin.email]
    assert message.subject == f"{world.org.name}: 2 waiting for an admin"
    assert "Held (sender not authenticated): New bank details for the Harbour invoice — from owner@testorg.test" in (
        message.body
    )
    assert "Refused (sender not allowed)" in message.body and "from dana@client.test" in message.body
    assert world.org.absolute_url("/inbox/#review") in message.body
    html, _ = message.alternatives[0]
    assert "Waiting for an admin" in html


def test_members_get_the_digest_without_the_admins_section(world, post_postmark, post_sns):
    from events.models import Event, EventKind
    from projects.models import Project

    project = Project.objects.create(name="Kitchen", slug="kitchen")
    Event.objects.create(project=project, title="Site meeting", kind=EventKind.MEETING, date=timezone.localdate())
    post_sns(a_stranger())

    digest_send_organization(world.org.schema_name)

    messages = by_recipient()
    assert "Waiting for an admin" not in messages[world.member.email].body
    assert "Waiting for an admin" in messages[world.owner.email].body
    assert messages[world.owner.email].subject.endswith(", 1 waiting for an admin")


def test_mail_refused_before_the_last_digest_is_not_repeated(world, post_sns):
    post_sns(a_stranger())
    assert digest_send_organization(world.org.schema_name, now=timezone.now() + dt.timedelta(days=2)) == 0


# --- scheduling -----------------------------------------------------------------------------


def test_the_schedule_queues_one_task_per_active_organization(org, other_org, monkeypatch):
    queued = []
    monkeypatch.setattr(digest_module, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    Organization.objects.filter(pk=other_org.pk).update(is_active=False)

    count = digest_send_all()

    schemas = [args[0] for func, args in queued]
    assert org.schema_name in schemas
    assert other_org.schema_name not in schemas
    assert "public" not in schemas
    assert "tenant_template" not in schemas
    assert count == len(queued)
    assert {func for func, _ in queued} == {"inbound.digest.digest_send_organization"}


def test_the_schedule_is_registered_once_for_the_next_morning(db):
    schedules_ensure()
    schedules_ensure()

    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert schedule.func == "inbound.digest.digest_send_all"
    assert schedule.schedule_type == Schedule.CRON
    assert schedule.cron == "0 6 * * *"
    assert timezone.now() < schedule.next_run <= timezone.now() + dt.timedelta(days=1)
    assert (schedule.next_run.hour, schedule.next_run.minute) == (6, 0)


def test_setup_schedules_registers_the_digest_and_the_purge_once_and_lists_every_schedule(db, capsys):
    call_command("setup_schedules")
    call_command("setup_schedules")

    out = capsys.readouterr().out
    assert f"{SCHEDULE_NAME}: inbound.digest.digest_send_all (cron 0 6 * * *" in out
    assert "inbound: purge kept refused mail: inbound.schedules.kept_messages_purge_task" in out
    assert Schedule.objects.filter(name=SCHEDULE_NAME).count() == 1
