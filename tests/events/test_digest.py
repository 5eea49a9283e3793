"""The daily digest: what changed in the last day, what is due in the next 7 days, who gets it."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.utils import timezone

from events import digest as digest_module
from events.digest import digest_build, digest_send_organization
from events.models import Email, Event, EventHistory, EventKind, EventStatus
from organizations.models import Membership, Organization
from projects.models import Project, ProjectStatus


def project(name="Kitchen refit", status=ProjectStatus.ACTIVE):
    return Project.objects.create(name=name, slug=name.lower().replace(" ", "-"), status=status)


def event(project, title, *, days=None, kind=EventKind.DEADLINE, **fields):
    date = timezone.localdate() + dt.timedelta(days=days) if days is not None else None
    return Event.objects.create(project=project, title=title, kind=kind, date=date, **fields)


def age(event, days):
    """Pretend the event was created and last changed `days` ago (auto_now fields bypassed)."""
    when = timezone.now() - dt.timedelta(days=days)
    Event.objects.filter(pk=event.pk).update(created_at=when, updated_at=when)


def titles(lines):
    return [line.title for line in lines]


# --- what goes in ---------------------------------------------------------------------------


def test_it_lists_what_changed_in_the_last_day_with_the_kind_of_change(org):
    kitchen = project()
    event(kitchen, "New deadline", days=20)
    edited = event(kitchen, "Edited meeting", days=30, edited=True)
    cancelled = event(kitchen, "Cancelled call", days=30, status=EventStatus.CANCELLED)
    old = event(kitchen, "Untouched for days", days=30)
    for e in (edited, cancelled, old):
        age(e, 3)
    Event.objects.filter(pk__in=[edited.pk, cancelled.pk]).update(updated_at=timezone.now())

    digest = digest_build(organization=org)

    changes = {line.title: line.change for line in digest.changed}
    assert changes == {"New deadline": "new", "Edited meeting": "edited", "Cancelled call": "cancelled"}


def test_an_event_a_later_email_confirmed_shows_as_confirmed(org):
    kitchen = project()
    confirmed = event(kitchen, "Kickoff", days=5, kind=EventKind.MEETING)
    confirmed_long_ago = event(kitchen, "Survey", days=6, kind=EventKind.MEETING)
    for e in (confirmed, confirmed_long_ago):
        age(e, 3)
    EventHistory.objects.create(event=confirmed, action="confirmed")
    old = EventHistory.objects.create(event=confirmed_long_ago, action="confirmed")
    EventHistory.objects.filter(pk=old.pk).update(at=timezone.now() - dt.timedelta(days=3))
    Event.objects.filter(pk__in=[confirmed.pk, confirmed_long_ago.pk]).update(updated_at=timezone.now())

    changes = {line.title: line.change for line in digest_build(organization=org).changed}

    assert changes == {"Kickoff": "confirmed", "Survey": "updated"}


def test_it_lists_what_is_due_in_the_next_seven_days_in_date_order(org):
    kitchen = project()
    event(kitchen, "In a week", days=7)
    event(kitchen, "Today", days=0)
    event(kitchen, "Tomorrow", days=1)
    event(kitchen, "In eight days", days=8)
    event(kitchen, "Yesterday", days=-1)
    event(kitchen, "Undated")
    event(kitchen, "Already done", days=2, done=True)
    event(kitchen, "Cancelled", days=2, status=EventStatus.CANCELLED)
    event(kitchen, "Deleted", days=2, deleted_at=timezone.now())
    event(project("Old shop", status=ProjectStatus.ARCHIVED), "Archived project", days=2)

    digest = digest_build(organization=org)

    assert titles(digest.due) == ["Today", "Tomorrow", "In a week"]


def test_it_leaves_suggestions_out_of_both_sections_until_they_are_accepted(org, world):
    from events.services import event_suggestion_accept

    kitchen = project()
    event(kitchen, "Tiles due", days=2)
    maybe = event(kitchen, "Maybe a walk-through", days=3, kind=EventKind.MEETING, suggested=True)

    digest = digest_build(organization=org)
    assert (titles(digest.changed), titles(digest.due)) == (["Tiles due"], ["Tiles due"])

    event_suggestion_accept(event=maybe, actor=world.member)
    digest = digest_build(organization=org)
    assert titles(digest.changed) == ["Tiles due", "Maybe a walk-through"]
    assert titles(digest.due) == ["Tiles due", "Maybe a walk-through"]


def test_it_leaves_out_deleted_events_and_archived_projects_from_the_changes(org):
    event(project(), "Deleted today", days=3, deleted_at=timezone.now())
    event(project("Old shop", status=ProjectStatus.ARCHIVED), "Archived", days=3)

    assert digest_build(organization=org).changed == []


def test_it_links_each_line_to_the_projects_timeline_on_the_workspace_host(org):
    kitchen = project()
    event(kitchen, "Handover", days=2)

    line = digest_build(organization=org).due[0]

    assert line.url == org.absolute_url(f"/projects/{kitchen.code}/")
    assert line.url.startswith(f"{org.absolute_url('/')}")
    assert org.host in line.url


def test_it_counts_the_emails_received_in_the_window(org):
    now = timezone.now()
    for n, hours in enumerate((1, 5, 30)):
        Email.objects.create(message_id=f"<d{n}@x>", received_at=now - dt.timedelta(hours=hours))

    assert digest_build(organization=org, now=now).emails_received == 2


def test_it_caps_long_sections_and_says_how_many_more(org, monkeypatch):
    monkeypatch.setattr(digest_module, "MAX_ITEMS", 3)
    kitchen = project()
    for n in range(5):
        event(kitchen, f"Due {n}", days=1)

    digest = digest_build(organization=org)

    assert (len(digest.due), digest.due_more) == (3, 2)
    assert (len(digest.changed), digest.changed_more) == (3, 2)
    assert digest.subject == f"{org.name}: 5 updated, 5 due this week"


# --- who gets it ----------------------------------------------------------------------------


def test_it_mails_each_member_who_wants_it_separately(org, world):
    Membership.objects.filter(user=world.viewer).update(digest_enabled=False)
    event(project(), "Site meeting", days=2, kind=EventKind.MEETING)

    sent = digest_send_organization(org.schema_name)

    assert sent == 3
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted([world.owner.email, world.admin.email, world.member.email])
    assert all(len(message.to) == 1 and not message.cc and not message.bcc for message in mail.outbox)
    message = mail.outbox[0]
    assert message.subject == f"{org.name}: 1 updated, 1 due this week"
    assert "Site meeting" in message.body
    assert org.absolute_url("/projects/") in message.body
    assert org.absolute_url("/team/#digest") in message.body
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_it_escapes_email_derived_titles_in_the_html_part(org, world):
    event(project(), '<img src=x onerror="alert(1)">Deadline', days=1)

    digest_send_organization(org.schema_name)

    html, mimetype = mail.outbox[0].alternatives[0]
    assert mimetype == "text/html"
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Deadline" in html


def test_it_sends_nothing_when_nothing_changed_and_nothing_is_due(org, world):
    old = event(project(), "Far away", days=60)
    age(old, 5)

    assert digest_send_organization(org.schema_name) == 0
    assert mail.outbox == []


def test_it_sends_at_most_one_digest_per_organization_and_day(org, world):
    event(project(), "Due", days=1)

    first = digest_send_organization(org.schema_name)
    again = digest_send_organization(org.schema_name)
    tomorrow = digest_send_organization(org.schema_name, now=timezone.now() + dt.timedelta(days=1))

    assert (first, again) == (4, 0)
    assert tomorrow == 4


def test_it_skips_an_inactive_organization(org, world):
    event(project(), "Due", days=1)
    Organization.objects.filter(pk=org.pk).update(is_active=False)

    assert digest_send_organization(org.schema_name) == 0
    assert mail.outbox == []


def test_it_never_mails_members_of_other_organizations(org, world):
    event(project(), "Due", days=1)

    digest_send_organization(org.schema_name)

    assert world.outsider.email not in [message.to[0] for message in mail.outbox]
