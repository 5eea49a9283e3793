"""The agenda page (/agenda/, where / and sign-in lead), through real requests."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.models import EventKind
from events.selectors_agenda import week_bounds
from tests.conftest import ROLES
from tests.factories import EmailFactory, EventFactory, ProjectFactory


@pytest.fixture
def member(world, client_as):
    return client_as(world.member)


@pytest.fixture
def project(org):
    return ProjectFactory(name="Kitchen refit")


def today():
    return timezone.localdate()


def next_monday():
    return week_bounds(today())[1]


def titles(body):
    return re.findall(r'class="event-title">([^<]+)</a>', body)


@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_the_agenda(world, client_as, project, role):
    EventFactory(project=project, title="Site visit", date=today())
    response = client_as(world.user(role)).get(reverse("agenda:index"))
    assert response.status_code == 200
    assert titles(response.content.decode()) == ["Site visit"]


def test_an_outsider_gets_404(world, client_as):
    assert client_as(world.outsider).get(reverse("agenda:index")).status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(world, workspace_client):
    response = workspace_client.get(reverse("agenda:index"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_answers_get_only(world, member):
    assert member.post(reverse("agenda:index")).status_code == 405


def test_the_workspace_home_and_sign_in_lead_to_the_agenda(world, member, settings):
    response = member.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("agenda:index")
    assert reverse("home") == settings.LOGIN_REDIRECT_URL


def test_agenda_is_the_first_link_of_the_nav_and_marked_current(world, member):
    body = member.get(reverse("agenda:index")).content.decode()
    nav = body[body.index('<ul class="main-nav">') :]
    links = re.findall(r'<a href="([^"]+)"', nav)
    assert links[0] == reverse("agenda:index")
    assert f'<a href="{reverse("agenda:index")}" aria-current="page">Agenda</a>' in body


def test_each_item_shows_its_project_kind_time_title_and_source_email(world, member, project):
    email = EmailFactory(project=project, subject="Kick-off")
    event = EventFactory(
        project=project, email=email, kind=EventKind.MEETING, title="Kick-off call", date=today(), time=dt.time(10, 0)
    )
    body = member.get(reverse("agenda:index")).content.decode()
    row = body[body.index(f'id="agenda-event-{event.code}"') :]
    row = row[: row.index("</li>")]
    assert ">10:00<" in row
    assert 'class="badge kind kind-meeting">Meeting<' in row
    assert f'href="{reverse("projects:timeline", args=[project.code])}#event-{event.code}"' in row
    assert ">Kitchen refit</a>" in row
    assert f'href="{reverse("events:email", args=[email.code])}?highlight={event.code}#evidence"' in row


def test_it_shows_the_four_sections_with_their_counts_and_days(world, member, project):
    EventFactory(project=project, kind=EventKind.PAYMENT, title="Deposit", date=today() - dt.timedelta(days=2))
    EventFactory(project=project, title="Site visit", date=today())
    EventFactory(project=project, title="Handover", date=next_monday())
    body = member.get(reverse("agenda:index")).content.decode()
    headings = re.findall(r'class="agenda-heading">([^<]+) <span class="count">(\d+)</span>', body)
    assert headings == [("Overdue", "1"), ("Today", "1"), ("This week", "0"), ("Next week", "1")]
    assert titles(body) == ["Deposit", "Site visit", "Handover"]
    assert f'<time datetime="{next_monday():%Y-%m-%d}">' in body
    assert "2\xa0days ago" in body


def test_filters_work_as_a_plain_get_form(world, member, project):
    other = ProjectFactory(name="Bakery")
    EventFactory(project=project, kind=EventKind.PAYMENT, title="Kitchen payment", date=today())
    EventFactory(project=other, kind=EventKind.PAYMENT, title="Bakery payment", date=today())
    EventFactory(
        project=other, kind=EventKind.MEETING, title="Bakery meeting", date=today(), people=["member@testorg.test"]
    )
    agenda = reverse("agenda:index")
    assert titles(member.get(agenda, {"project": str(other.code)}).content.decode()) == [
        "Bakery payment",
        "Bakery meeting",
    ]
    assert sorted(titles(member.get(agenda, {"kind": "payment"}).content.decode())) == [
        "Bakery payment",
        "Kitchen payment",
    ]
    assert titles(member.get(agenda, {"person": "mine"}).content.decode()) == ["Bakery meeting"]
    body = member.get(agenda, {"project": str(other.code), "kind": "payment"}).content.decode()
    assert titles(body) == ["Bakery payment"]
    assert f'<option value="{other.code}" selected>Bakery</option>' in body
    assert '<option value="payment" selected>Payment</option>' in body


def test_an_invalid_filter_is_ignored_and_an_unknown_project_matches_nothing(world, member, project):
    EventFactory(project=project, title="Site visit", date=today())
    agenda = reverse("agenda:index")
    assert titles(member.get(agenda, {"project": "not-a-code", "kind": "nope", "person": "x"}).content.decode()) == [
        "Site visit"
    ]
    body = member.get(agenda, {"project": "00000000-0000-0000-0000-000000000000"}).content.decode()
    assert "Nothing matches these filters" in body


def test_it_says_when_there_is_nothing_to_show(world, member):
    body = member.get(reverse("agenda:index")).content.decode()
    assert "Nothing overdue and nothing in the next two weeks" in body


def test_it_answers_htmx_with_the_results_fragment_only(world, member, project):
    EventFactory(project=project, kind=EventKind.PAYMENT, title="Kitchen payment", date=today())
    response = member.get(reverse("agenda:index"), {"kind": "payment"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="agenda-results"')
    assert "<html" not in body and "<select" not in body
    assert titles(body) == ["Kitchen payment"]
    assert "HX-Request" in response["Vary"]


def test_the_filter_form_swaps_the_results_and_keeps_the_address_in_sync(world, member):
    body = member.get(reverse("agenda:index")).content.decode()
    form = body[body.index('<form method="get" action="/agenda/"') :]
    form = form[: form.index(">")]
    assert 'hx-target="#agenda-results"' in form
    assert 'hx-push-url="true"' in form


def test_the_agenda_costs_the_same_queries_with_1_and_500_items(world, member, project, django_assert_num_queries):
    EventFactory(project=project, email=EmailFactory(project=project), date=today())
    with CaptureQueriesContext(connection) as one:
        assert member.get(reverse("agenda:index")).status_code == 200
    projects = [project, *ProjectFactory.create_batch(9)]
    for i in range(499):
        EventFactory(
            project=projects[i % 10],
            email=EmailFactory(project=projects[i % 10]) if i % 2 else None,
            kind=EventKind.DEADLINE if i % 3 else EventKind.MEETING,
            date=today() + dt.timedelta(days=i % 28 - 14),
            time=dt.time(9 + i % 8, 0) if i % 4 else None,
            people=["member@testorg.test"] if i % 5 == 0 else [],
        )
    with django_assert_num_queries(len(one.captured_queries)):
        response = member.get(reverse("agenda:index"))
    assert response.context["agenda"].count > 300
    with django_assert_num_queries(len(one.captured_queries)):
        member.get(reverse("agenda:index"), {"person": "mine", "kind": "deadline", "project": str(project.code)})
    assert len(one.captured_queries) <= 12
