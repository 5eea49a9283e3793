"""Account → Time zone: the form, and the browser's zone kept once after the first sign-in."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.models import User
from tests.conftest import make_user

URL = "/accounts/time-zone/"
DETECT = "/accounts/time-zone/detect/"


def zone_of(user: User) -> str:
    user.refresh_from_db()
    return user.time_zone


def test_the_account_pages_link_to_it(world, client_as):
    body = client_as(world.member).get(reverse("account_email")).content.decode()
    assert f'href="{URL}"' in body


def test_it_says_times_are_in_utc_until_a_zone_is_chosen(world, client_as):
    body = client_as(world.member).get(URL).content.decode()
    assert "You have not chosen a time zone yet" in body
    assert '<option value="" selected>Choose your time zone</option>' in body


def test_a_member_chooses_their_zone(world, client_as):
    client = client_as(world.member)
    response = client.post(URL, {"time_zone": "Europe/Oslo"})
    assert response.status_code == 302
    assert response["Location"] == URL
    assert zone_of(world.member) == "Europe/Oslo"
    body = client.get(URL).content.decode()
    assert "Times are now shown in Europe/Oslo." in body
    assert '<option value="Europe/Oslo" selected>Europe/Oslo</option>' in body


def test_a_viewer_may_choose_their_own_zone_too(world, client_as):
    assert client_as(world.viewer).post(URL, {"time_zone": "Asia/Tokyo"}).status_code == 302
    assert zone_of(world.viewer) == "Asia/Tokyo"


def test_it_works_on_the_public_host_as_well(world, client_as):
    from django.conf import settings

    client = client_as(world.member, host=settings.BASE_DOMAIN)
    assert client.post(URL, {"time_zone": "America/New_York"}).status_code == 302
    assert zone_of(world.member) == "America/New_York"


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "europe/oslo", "../../etc/passwd"])
def test_it_refuses_a_name_that_is_no_time_zone(world, client_as, name):
    world.member.time_zone = "Europe/Oslo"
    world.member.save(update_fields=["time_zone"])
    response = client_as(world.member).post(URL, {"time_zone": name})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert zone_of(world.member) == "Europe/Oslo"


def test_it_keeps_an_alias_the_browser_sent_choosable(world, client_as):
    world.member.time_zone = "Asia/Calcutta"
    world.member.save(update_fields=["time_zone"])
    body = client_as(world.member).get(URL).content.decode()
    assert '<option value="Asia/Calcutta" selected>Asia/Calcutta</option>' in body


def test_it_sends_anonymous_visitors_to_sign_in(workspace_client):
    response = workspace_client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert workspace_client.post(DETECT, {"time_zone": "Europe/Oslo"}).status_code == 302


# --- the first sign-in ------------------------------------------------------------------------


def test_pages_ask_the_browser_for_its_zone_while_the_person_has_none(world, client_as):
    body = client_as(world.member).get("/projects/").content.decode()
    assert 'src="/static/js/timezone.js"' in body
    assert f'data-time-zone-url="{DETECT}"' in body


def test_pages_stop_asking_once_the_person_has_a_zone(world, client_as):
    world.member.time_zone = "Europe/Oslo"
    world.member.save(update_fields=["time_zone"])
    assert "timezone.js" not in client_as(world.member).get("/projects/").content.decode()


def test_anonymous_pages_never_ask(workspace_client):
    assert "timezone.js" not in workspace_client.get("/accounts/login/").content.decode()


def test_the_browsers_zone_is_kept_when_the_person_has_none(world, client_as):
    response = client_as(world.member).post(DETECT, {"time_zone": "America/Sao_Paulo"})
    assert response.status_code == 200
    assert json.loads(response.content) == {"time_zone": "America/Sao_Paulo", "kept": True}
    assert zone_of(world.member) == "America/Sao_Paulo"


def test_the_browsers_zone_never_overrides_a_chosen_one(world, client_as):
    world.member.time_zone = "Europe/Oslo"
    world.member.save(update_fields=["time_zone"])
    response = client_as(world.member).post(DETECT, {"time_zone": "Asia/Tokyo"})
    assert json.loads(response.content) == {"time_zone": "Europe/Oslo", "kept": False}
    assert zone_of(world.member) == "Europe/Oslo"


def test_a_legacy_alias_from_the_browser_is_a_zone_too(world, client_as):
    response = client_as(world.member).post(DETECT, {"time_zone": "Asia/Calcutta"})
    assert json.loads(response.content)["kept"] is True
    assert zone_of(world.member) == "Asia/Calcutta"


def test_a_made_up_zone_from_the_browser_is_refused(world, client_as):
    response = client_as(world.member).post(DETECT, {"time_zone": "Nowhere/Special"})
    assert response.status_code == 400
    assert zone_of(world.member) == ""


def test_the_detect_endpoint_only_takes_posts(world, client_as):
    assert client_as(world.member).get(DETECT).status_code == 405


def test_a_person_who_joined_through_an_invitation_starts_without_a_zone(db, session_orgs):
    assert make_user("new@testorg.test").time_zone == ""
