"""accounts.middleware.TimeZoneMiddleware: every page in the signed-in person's own zone."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import EmailFactory

ARRIVED = dt.datetime(2026, 12, 7, 14, 30, tzinfo=dt.UTC)


def with_zone(user, name):
    user.time_zone = name
    user.save(update_fields=["time_zone"])
    return user


def test_a_page_shows_when_an_email_arrived_in_the_readers_zone(world, client_as):
    email = EmailFactory(received_at=ARRIVED, date=ARRIVED)
    url = reverse("events:email", args=[email.code])

    oslo = client_as(with_zone(world.member, "Europe/Oslo")).get(url).content.decode()
    tokyo = client_as(with_zone(world.admin, "Asia/Tokyo")).get(url).content.decode()

    assert "7 Dec 2026, 15:30" in oslo
    assert "7 Dec 2026, 23:30" in tokyo
    assert "times in Europe/Oslo" in oslo
    assert "times in Asia/Tokyo" in tokyo


def test_a_person_without_a_zone_reads_utc(world, client_as):
    email = EmailFactory(received_at=ARRIVED, date=ARRIVED)
    body = client_as(world.member).get(reverse("events:email", args=[email.code])).content.decode()
    assert "7 Dec 2026, 14:30" in body
    assert "times in UTC" in body


def test_the_agendas_today_is_the_readers_today(world, client_as):
    with time_machine.travel(dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.UTC), tick=False):
        auckland = client_as(with_zone(world.member, "Pacific/Auckland")).get("/agenda/").content.decode()
        utc = client_as(world.viewer).get("/agenda/").content.decode()
    assert '<time datetime="2026-12-08">' in auckland
    assert '<time datetime="2026-12-07">' in utc


def test_the_zone_ends_with_the_request(world, client_as):
    client_as(with_zone(world.member, "Asia/Tokyo")).get("/projects/")
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_zone_dropped_from_the_database_of_zones_falls_back_to_utc(world, client_as):
    # Saved before a tzdata update removed it: the page still renders, in UTC.
    type(world.member).objects.filter(pk=world.member.pk).update(time_zone="Atlantis/Capital")
    response = client_as(world.member).get("/projects/")
    assert response.status_code == 200
    assert "times in UTC" in response.content.decode()
