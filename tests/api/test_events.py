"""/api/v1/events: the dashboard's timeline order, filters and services through the API."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.models import Event, EventHistory, EventKind
from tests.factories import EmailFactory, EventFactory, ProjectFactory

URL = "/api/v1/events"


@pytest.fixture
def project(org):
    return ProjectFactory(name="Kitchen refit")


def titles(response):
    assert response.status_code == 200, response.content
    return [e["title"] for e in response.json()["items"]]


def test_it_lists_a_projects_upcoming_deadlines_as_in_the_docs(reader, project):
    today = timezone.localdate()
    EventFactory(project=project, kind=EventKind.DEADLINE, title="Tiles chosen", date=today + dt.timedelta(days=3))
    EventFactory(project=project, kind=EventKind.DEADLINE, title="Permit filed", date=today - dt.timedelta(days=3))
    EventFactory(project=project, kind=EventKind.MEETING, title="Site visit", date=today + dt.timedelta(days=1))
    EventFactory(kind=EventKind.DEADLINE, title="Another project", date=today + dt.timedelta(days=1))
    params = {"project": str(project.code), "kind": "deadline", "when": "upcoming"}
    assert titles(reader.get(URL, params)) == ["Tiles chosen"]


def test_it_filters_by_date_range_and_several_kinds_in_timeline_order(reader, project):
    EventFactory(project=project, kind=EventKind.PAYMENT, title="Deposit", date=dt.date(2030, 3, 2))
    EventFactory(project=project, kind=EventKind.DEADLINE, title="Tiles", date=dt.date(2030, 3, 1))
    EventFactory(project=project, kind=EventKind.MEETING, title="Visit", date=dt.date(2030, 3, 1))
    EventFactory(project=project, kind=EventKind.DEADLINE, title="Later", date=dt.date(2030, 5, 1))
    EventFactory(project=project, kind=EventKind.DEADLINE, title="Undated", date=None)
    deleted = EventFactory(project=project, kind=EventKind.DEADLINE, title="Gone", date=dt.date(2030, 3, 1))
    deleted.deleted_at = timezone.now()
    deleted.save()
    params = {"kind": ["deadline", "payment"], "date_from": "2030-03-01", "date_to": "2030-03-31"}
    assert titles(reader.get(URL, params)) == ["Tiles", "Deposit"]
    assert titles(reader.get(URL, {"project": str(project.code)}))[-1] == "Undated"


def test_it_pages_in_timeline_order_and_stays_put_while_events_are_added(reader, project):
    for day in range(1, 6):
        EventFactory(project=project, title=f"Day {day}", date=dt.date(2030, 1, day))
    page1 = reader.get(URL, {"limit": 2}).json()
    EventFactory(project=project, title="Late, earlier date", date=dt.date(2029, 12, 31))
    EventFactory(project=project, title="Late, later date", date=dt.date(2030, 2, 1))
    page2 = reader.get(URL, {"limit": 2, "cursor": page1["next_cursor"]}).json()
    page3 = reader.get(URL, {"limit": 2, "cursor": page2["next_cursor"]}).json()
    seen = [e["title"] for page in (page1, page2, page3) for e in page["items"]]
    assert seen == ["Day 1", "Day 2", "Day 3", "Day 4", "Day 5", "Late, later date"]
    assert page3["next_cursor"] is None


def test_it_refuses_a_tampered_cursor_naming_it(reader, project):
    response = reader.get(URL, {"cursor": "!!!"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_the_list_costs_the_same_queries_for_1_and_100_events(reader, project):
    email = EmailFactory(project=project)
    EventFactory(project=project, email=email)
    reader.get(URL)
    params = {"project": str(project.code), "limit": 100}
    with CaptureQueriesContext(connection) as one:
        assert len(titles(reader.get(URL, params))) == 1
    more = EventFactory.create_batch(99, project=project, email=email)
    EventHistory.objects.bulk_create(EventHistory(event=e, action="confirmed", email=email) for e in more)
    with CaptureQueriesContext(connection) as hundred:
        assert len(titles(reader.get(URL, params))) == 100
    assert len(hundred) == len(one), [q["sql"] for q in hundred]


def test_an_event_names_the_later_emails_that_confirmed_it_oldest_first(reader, project):
    event = EventFactory(project=project, email=EmailFactory(project=project), date=dt.date(2030, 1, 5))
    first, second = EmailFactory(project=project), EmailFactory(project=project)
    for email in (first, second):
        EventHistory.objects.create(event=event, action="confirmed", email=email, after={"confidence": 0.9})
    EventHistory.objects.create(event=event, action="edited")

    listed = reader.get(URL, {"project": str(project.code)}).json()["items"][0]
    detail = reader.get(f"{URL}/{event.code}").json()

    assert listed["confirmed_by"] == detail["confirmed_by"] == [str(first.code), str(second.code)]


def test_an_event_created_with_a_write_key_shows_on_the_dashboard_timeline(writer, world, client_as, project):
    body = {
        "project": str(project.code),
        "kind": "deadline",
        "title": "Choose worktop",
        "date": "2030-04-15",
        "people": ["Ana Diaz"],
        "amount": "1200.50",
        "currency": "eur",
    }
    response = writer.post(URL, body, "application/json")
    assert response.status_code == 201
    created = response.json()
    assert (created["provider"], created["edited"], created["amount"], created["currency"]) == (
        "manual",
        True,
        "1200.50",
        "EUR",
    )
    event = Event.objects.get(code=created["code"])
    assert event.edited_by == world.admin  # the key's creator, as on the dashboard
    page = client_as(world.viewer).get(reverse("projects:timeline", args=[project.code]))
    assert "Choose worktop" in page.content.decode()


def test_an_update_is_marked_as_a_human_edit_with_its_history(writer, world, project):
    email = EmailFactory(project=project)
    event = EventFactory(project=project, email=email, title="Site meeting", date=dt.date(2030, 1, 2))
    response = writer.patch(f"{URL}/{event.code}", {"date": "2030-01-09", "done": True}, "application/json")
    assert response.status_code == 200
    assert (response.json()["date"], response.json()["done"], response.json()["edited"]) == ("2030-01-09", True, True)
    event.refresh_from_db()
    assert event.edited_by == world.admin
    history = list(EventHistory.objects.filter(event=event).values_list("action", "before", "after"))
    assert history == [
        ("edited", {"date": "2030-01-02"}, {"date": "2030-01-09"}),
        ("done", {"done": False}, {"done": True}),
    ]


def test_an_update_may_clear_the_date_but_not_the_title(writer, project):
    event = EventFactory(project=project, date=dt.date(2030, 1, 2))
    assert writer.patch(f"{URL}/{event.code}", {"date": None}, "application/json").json()["date"] is None
    response = writer.patch(f"{URL}/{event.code}", {"title": None}, "application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "title", "message": "may not be null."}]


def test_delete_is_the_dashboards_soft_delete(writer, reader, project):
    event = EventFactory(project=project)
    assert writer.delete(f"{URL}/{event.code}").status_code == 204
    event.refresh_from_db()
    assert event.deleted_at is not None and event.edited
    assert reader.get(f"{URL}/{event.code}").status_code == 404
    assert titles(reader.get(URL)) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "deadline", "title": "x"}, "project"),
        ({"project": "00000000-0000-0000-0000-000000000000", "kind": "deadline", "title": "x"}, "project"),
        ({"kind": "party", "title": "x"}, "kind"),
        ({"kind": "deadline", "title": ""}, "title"),
        ({"kind": "deadline", "title": "x", "date": "2030-02-30"}, "date"),
        ({"kind": "deadline", "title": "x", "time": "25:00"}, "time"),
        ({"kind": "deadline", "title": "x", "amount": "12.345"}, "amount"),
        ({"kind": "deadline", "title": "x", "currency": "euro"}, "currency"),
        ({"kind": "deadline", "title": "x", "people": "Ana"}, "people"),
    ],
)
def test_it_names_the_field_of_a_bad_event(body, field, writer, project):
    body = {"project": str(project.code), **body} if "project" not in body and field != "project" else body
    response = writer.post(URL, body, "application/json")
    assert response.status_code == 400, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Event.objects.exists()


def test_it_refuses_an_event_in_a_merged_project(writer, project):
    merged = ProjectFactory(merged_into=project)
    response = writer.post(URL, {"project": str(merged.code), "kind": "deadline", "title": "x"}, "application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "project"


def test_the_curl_example_in_docs_api_md_lists_upcoming_deadlines(reader, project):
    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    example = re.search(
        r'Bearer \$PROJECTR_READ_KEY" \\\n\s+"http://acme\.localhost:8000(/api/v1/events\?[^"]+)"', docs
    )
    assert example, "the read-key curl example is missing from docs/api.md"
    EventFactory(project=project, kind=EventKind.DEADLINE, title="Tiles chosen", date=timezone.localdate())
    EventFactory(project=project, kind=EventKind.MEETING, title="Site visit", date=timezone.localdate())
    assert titles(reader.get(example.group(1).replace("$PROJECT_CODE", str(project.code)))) == ["Tiles chosen"]


def test_each_event_says_whether_it_is_a_suggestion_and_upcoming_leaves_suggestions_out(reader, project):
    today = timezone.localdate()
    maybe = EventFactory(project=project, title="Maybe a walk-through", date=today, suggested=True)
    EventFactory(project=project, title="Tiles chosen", date=today)

    listed = {e["title"]: e["suggested"] for e in reader.get(URL, {"project": str(project.code)}).json()["items"]}
    assert listed == {"Maybe a walk-through": True, "Tiles chosen": False}
    assert reader.get(f"{URL}/{maybe.code}").json()["suggested"] is True
    assert titles(reader.get(URL, {"project": str(project.code), "when": "upcoming"})) == ["Tiles chosen"]
