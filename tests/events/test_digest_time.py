"""The digest in each recipient's own zone: a meeting keeps the time its email
gave in its zone and shows the recipient's own time beside it; all-day items do not move."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.utils import timezone

from events.digest import digest_build, digest_recipients, digest_send
from events.models import Event, EventKind
from projects.models import Project

MORNING = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)


def with_zone(user, name):
    user.time_zone = name
    user.save(update_fields=["time_zone"])


def sent_to(user):
    (message,) = [m for m in mail.outbox if m.to == [user.email]]
    return message.body, message.alternatives[0][0]


def test_each_recipient_reads_the_digest_in_their_own_zone(org, world):
    office = Project.objects.create(name="Harbour office", slug="harbour-office")
    Event.objects.create(
        project=office, kind=EventKind.MEETING, title="Call with Ingrid",
        date=dt.date(2026, 12, 8), time=dt.time(15, 0), timezone="Europe/Oslo",
    )  # fmt: skip
    Event.objects.create(project=office, kind=EventKind.DEADLINE, title="Drawings due", date=dt.date(2026, 12, 9))
    with_zone(world.member, "America/New_York")
    with_zone(world.admin, "Pacific/Auckland")
    with_zone(world.viewer, "Europe/Oslo")

    digest = digest_build(organization=org, now=MORNING)
    assert digest_send(digest=digest, recipients=digest_recipients(organization=org)) == 4

    new_york_text, new_york_html = sent_to(world.member)
    assert "Tue 8 Dec 15:00 Oslo (09:00 your time): Call with Ingrid" in new_york_text
    assert "(09:00 your time)" in new_york_html
    auckland_text, _ = sent_to(world.admin)
    assert "Tue 8 Dec 15:00 Oslo (Wed 9 Dec, 03:00 your time): Call with Ingrid" in auckland_text
    oslo_text, _ = sent_to(world.viewer)
    assert "Tue 8 Dec 15:00: Call with Ingrid" in oslo_text
    utc_text, _ = sent_to(world.owner)  # no zone chosen: UTC
    assert "Tue 8 Dec 15:00 Oslo (14:00 your time): Call with Ingrid" in utc_text
    for text in (new_york_text, auckland_text, oslo_text, utc_text):
        assert "Wed 9 Dec: Drawings due" in text


def test_rendering_in_a_recipients_zone_leaves_the_worker_in_utc(org, world):
    Event.objects.create(
        project=Project.objects.create(name="Harbour office", slug="harbour-office"),
        kind=EventKind.DEADLINE, title="Drawings due", date=dt.date(2026, 12, 9),
    )  # fmt: skip
    with_zone(world.member, "Pacific/Auckland")
    digest_send(digest=digest_build(organization=org, now=MORNING), recipients=digest_recipients(organization=org))
    assert timezone.get_current_timezone_name() == "UTC"
