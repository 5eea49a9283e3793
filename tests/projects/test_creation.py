"""One way to create a project: the dashboard's form, the API, filing by hand and the pipeline all
go through projects.services.project_get_or_create, so they meet the same plan limit, store the
same name and slug, and return the same open project (the twin) instead of a duplicate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.urls import resolve, reverse

from api.models import ApiKeyScope
from api.services import api_key_create
from events.filing import email_file
from events.models import EmailState, FilingState
from events.processing import email_process
from extraction.types import Extraction, ProjectDecision
from organizations.models import Organization
from projects.models import Project, ProjectAlias, ProjectStatus
from projects.selectors import open_project_count, open_projects
from projects.services import ProjectLimitError, project_get_or_create
from tests.factories import EmailFactory, ProjectFactory

API_URL = "/api/v1/projects"

# A door takes (name, client name, client email) and answers the project it ended in, or None
# when the plan refused it (the refusal checked the way that door shows it).
Door = Callable[[str, str, str], Project | None]


@pytest.fixture
def writer(world: Any) -> Client:
    """An API client with a read-write key of the test workspace."""
    key = api_key_create(organization=world.org, actor=world.admin, name="CRM sync", scope=ApiKeyScope.WRITE)
    connection.set_tenant(world.org)
    return Client(HTTP_HOST=world.org.host, HTTP_AUTHORIZATION=f"Bearer {key.secret}")


@pytest.fixture
def doors(world: Any, client_as: Any, writer: Client) -> dict[str, Door]:
    member = client_as(world.member)

    def dashboard(name: str, client_name: str, client_email: str) -> Project | None:
        response = member.post(
            reverse("projects:create"), {"name": name, "client_name": client_name, "client_email": client_email}
        )
        if response.status_code == 200:
            assert "Your plan allows no more open projects" in response.content.decode()
            return None
        assert response.status_code == 302, response.content
        return Project.objects.get(code=resolve(response["Location"]).kwargs["code"])

    def api(name: str, client_name: str, client_email: str) -> Project | None:
        body = {"name": name, "client_name": client_name, "client_email": client_email}
        response = writer.post(API_URL, body, "application/json")
        if response.status_code == 409:
            assert "Your plan allows no more open projects" in response.json()["detail"]
            return None
        assert response.status_code in (200, 201), response.content
        return Project.objects.get(code=response.json()["code"])

    def filing(name: str, client_name: str, client_email: str) -> Project | None:
        email = EmailFactory(project=None, filing=FilingState.UNFILED, filing_confidence=0.45, waiting={"events": []})
        try:
            return email_file(
                email=email,
                new_project={"name": name, "client": client_name, "client_email": client_email},
                actor=world.member,
            )
        except ProjectLimitError:
            return None

    def pipeline(name: str, client_name: str, client_email: str) -> Project | None:
        email = EmailFactory(state=EmailState.QUEUED, project=None)
        proposal = Extraction(
            project=ProjectDecision(
                action="new", name=name, client_name=client_name, client_email=client_email, confidence=0.9
            ),
            events=[],
            summary="",
            usage=[],
            provider="rules",
            model="rules",
        )
        with mock.patch("events.processing.extract", autospec=True, return_value=proposal):
            result = email_process(schema_name=world.org.schema_name, email_id=email.pk)
        email.refresh_from_db()
        if result.state == EmailState.HELD:
            assert email.state_reason.startswith("Project limit: the plan allows")
            return None
        assert result.state == EmailState.PROCESSED, result.reason
        return email.project

    return {"dashboard": dashboard, "api": api, "filing": filing, "pipeline": pipeline}


DOORS = ["dashboard", "api", "filing", "pipeline"]


def limit(organization: Organization, projects: int | None) -> None:
    Organization.objects.filter(pk=organization.pk).update(custom_project_limit=projects)


@pytest.mark.parametrize("door", DOORS)
def test_every_door_names_the_project_and_its_client_the_same_way(doors, door):
    project = doors[door]("  Harbor   Bakery – menu\tboards ", " Priya  Shah ", " Priya@HarborBakery.com ")
    assert project is not None
    assert (project.name, project.slug, project.client_name, project.client_email, project.status) == (
        "Harbor Bakery – menu boards",
        "harbor-bakery-menu-boards",
        "Priya Shah",
        "priya@harborbakery.com",
        ProjectStatus.ACTIVE,
    )


@pytest.mark.parametrize("door", DOORS)
def test_every_door_hits_the_same_plan_limit_counting_only_open_projects(doors, door, world):
    limit(world.org, 2)
    ProjectFactory(status=ProjectStatus.COMPLETED)
    ProjectFactory(status=ProjectStatus.ARCHIVED, merged_into=ProjectFactory(status=ProjectStatus.ON_HOLD))
    assert open_project_count() == 1  # the on-hold one; completed and merged away do not count

    assert doors[door]("Second project", "", "") is not None
    before = Project.objects.count()
    assert doors[door]("Third project", "", "") is None
    assert Project.objects.count() == before
    assert not Project.objects.filter(name="Third project").exists()


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("first", DOORS)
def test_a_name_already_open_elsewhere_is_the_same_project_whichever_door_made_it(doors, first, door):
    made = doors[first]("Henderson kitchen", "Henderson", "sarah@henderson.example")
    assert doors[door]("HENDERSON  Kitchen", "Someone else", "") == made
    assert Project.objects.count() == 1
    made.refresh_from_db()
    assert (made.name, made.client_name) == ("Henderson kitchen", "Henderson")  # the twin is left as it was


@pytest.mark.parametrize("door", DOORS)
def test_the_twin_is_found_by_alias_and_even_when_the_plan_is_full(doors, door, world):
    renamed = ProjectFactory(name="Henderson kitchen and bath")
    ProjectAlias.objects.create(project=renamed, alias="Henderson kitchen")
    limit(world.org, 1)
    assert doors[door]("henderson kitchen", "", "") == renamed
    assert Project.objects.count() == 1


@pytest.mark.parametrize("door", DOORS)
def test_a_closed_project_of_that_name_is_no_twin(doors, door):
    closed = ProjectFactory(name="Loft", slug="loft", status=ProjectStatus.COMPLETED)
    project = doors[door]("Loft", "", "")
    assert project is not None and project != closed
    assert project.slug == "loft-2"


def test_the_service_says_whether_it_created_and_the_dashboard_and_api_say_so_too(world, client_as, writer):
    project, created = project_get_or_create(organization=world.org, actor=world.member, name="Loft")
    assert created is True
    assert project_get_or_create(organization=world.org, actor=None, name=" loft ") == (project, False)

    response = client_as(world.member).post(reverse("projects:create"), {"name": "LOFT"}, follow=True)
    assert "already an open project of that name" in response.content.decode()
    response = writer.post(API_URL, {"name": "Loft"}, "application/json")
    assert (response.status_code, response.json()["code"]) == (200, str(project.code))
    assert writer.post(API_URL, {"name": "Attic"}, "application/json").status_code == 201


def test_a_blank_name_becomes_untitled_and_a_bad_address_is_refused_but_dropped_by_the_pipeline(world, doors):
    from django.core.exceptions import ValidationError

    project, _ = project_get_or_create(organization=world.org, actor=None, name="   ")
    assert (project.name, project.slug) == ("Untitled project", "untitled-project")
    with pytest.raises(ValidationError):
        project_get_or_create(organization=world.org, actor=None, name="Shop", client_email="not an address")
    # A provider's malformed proposal does not fail the email: the project goes without the address.
    assert doors["pipeline"]("Shop", "Shop Co", "sales@shop").client_email == ""


def test_open_projects_is_the_one_definition_of_open(org):
    active = ProjectFactory(status=ProjectStatus.ACTIVE)
    on_hold = ProjectFactory(status=ProjectStatus.ON_HOLD)
    ProjectFactory(status=ProjectStatus.COMPLETED)
    ProjectFactory(status=ProjectStatus.ARCHIVED)
    ProjectFactory(status=ProjectStatus.ACTIVE, merged_into=active)  # merged away, whatever its status
    assert set(open_projects()) == {active, on_hold}
    assert open_project_count() == 2
