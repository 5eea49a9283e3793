"""/api/v1/projects through real requests."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organizations.models import Organization
from projects.models import Project, ProjectAlias, ProjectStatus
from tests.factories import EventFactory, ProjectFactory

URL = "/api/v1/projects"


def test_it_lists_projects_with_their_event_count_and_next_event(reader, org):
    project = ProjectFactory(name="Kitchen refit")
    EventFactory(project=project, title="Tiles due")
    merged = ProjectFactory(name="Old name", merged_into=project)
    body = reader.get(URL).json()
    assert [p["name"] for p in body["items"]] == ["Kitchen refit"]
    assert body["items"][0]["event_count"] == 1
    assert body["items"][0]["next_event_title"] == "Tiles due"
    assert body["next_cursor"] is None
    assert reader.get(f"{URL}/{merged.code}").status_code == 404


def test_it_filters_by_status_and_search_like_the_dashboard(reader, org):
    ProjectFactory(name="Kitchen refit", status=ProjectStatus.ACTIVE)
    held = ProjectFactory(name="Garden wall", status=ProjectStatus.ON_HOLD)
    ProjectAlias.objects.create(project=held, alias="Boundary job")
    assert [p["name"] for p in reader.get(URL, {"status": "on_hold"}).json()["items"]] == ["Garden wall"]
    assert [p["name"] for p in reader.get(URL, {"q": "boundary"}).json()["items"]] == ["Garden wall"]


def test_it_pages_with_a_cursor_that_stays_put_while_projects_are_added(reader, org):
    first = [ProjectFactory(name=f"P{i}") for i in range(5)]
    page1 = reader.get(URL, {"limit": 2}).json()
    assert [p["name"] for p in page1["items"]] == ["P0", "P1"]
    # New projects arrive while the client pages: nothing is repeated or skipped.
    ProjectFactory(name="Late 1")
    page2 = reader.get(URL, {"limit": 2, "cursor": page1["next_cursor"]}).json()
    ProjectFactory(name="Late 2")
    page3 = reader.get(URL, {"limit": 2, "cursor": page2["next_cursor"]}).json()
    page4 = reader.get(URL, {"limit": 2, "cursor": page3["next_cursor"]}).json()
    names = [p["name"] for page in (page1, page2, page3, page4) for p in page["items"]]
    assert names == [p.name for p in first] + ["Late 1", "Late 2"]
    assert page4["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"cursor": "bm9wZQ"}, "cursor"), ({"status": "x"}, "status")],
)
def test_it_names_the_query_parameter_it_refuses(params, field, reader, org):
    response = reader.get(URL, params)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_list_costs_the_same_queries_for_1_and_100_projects(reader, org):
    ProjectFactory()
    reader.get(URL)  # the key's last-used time is written on the first request of the minute
    with CaptureQueriesContext(connection) as one:
        assert len(reader.get(URL, {"limit": 100}).json()["items"]) == 1
    ProjectFactory.create_batch(99)
    with CaptureQueriesContext(connection) as hundred:
        assert len(reader.get(URL, {"limit": 100}).json()["items"]) == 100
    assert len(hundred) == len(one), [q["sql"] for q in hundred]


def test_it_creates_a_project(writer, world):
    response = writer.post(URL, {"name": " New build ", "client_email": "Ana@Client.example"}, "application/json")
    assert response.status_code == 201
    project = Project.objects.get(code=response.json()["code"])
    assert (project.name, project.client_email, project.slug) == ("New build", "ana@client.example", "new-build")


def test_it_refuses_a_project_beyond_the_plan_with_409(writer, world):
    Organization.objects.filter(pk=world.org.pk).update(custom_project_limit=1)
    ProjectFactory()
    response = writer.post(URL, {"name": "One too many"}, "application/json")
    assert response.status_code == 409
    assert "plan" in response.json()["detail"]
    assert not Project.objects.filter(name="One too many").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ok", "client_email": "not an address"}, "client_email"),
        ({"name": 5}, "name"),
    ],
)
def test_it_names_the_field_of_a_bad_body(body, field, writer, world):
    response = writer.post(URL, body, "application/json")
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert field in response.json()["detail"]


def test_it_refuses_a_body_that_is_not_json(writer, world):
    response = writer.post(URL, "{not json", "application/json")
    assert response.status_code == 400


def test_it_renames_and_changes_status_keeping_the_old_name_as_an_alias(writer, world):
    project = ProjectFactory(name="Kitchen refit")
    response = writer.patch(f"{URL}/{project.code}", {"name": "Kitchen", "status": "completed"}, "application/json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["status"]) == ("Kitchen", "completed")
    assert list(project.aliases.values_list("alias", flat=True)) == ["Kitchen refit"]


def test_a_patch_changes_only_the_fields_sent(writer, world):
    project = ProjectFactory(name="Kitchen refit", client_name="Ana")
    writer.patch(f"{URL}/{project.code}", {"status": "on_hold"}, "application/json")
    project.refresh_from_db()
    assert (project.name, project.client_name, project.status) == ("Kitchen refit", "Ana", "on_hold")


def test_it_answers_404_for_a_code_of_no_project(reader, org):
    response = reader.get(f"{URL}/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    malformed = reader.get(f"{URL}/not-a-uuid")
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "code"
