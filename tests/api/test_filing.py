"""/api/v1/emails?filed=false and POST /api/v1/emails/{code}/file: Unfiled mail with its
suggestions and waiting events, filed or moved through the dashboard's filing service."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Email, EmailFiling, EmailState, Event, EventHistory, FilingState
from organizations.models import Organization
from projects.models import Project, ProjectSignal, ProjectStatus
from tests.factories import EmailFactory, EventFactory, ProjectFactory

URL = "/api/v1/emails"
NEW_NAME = "Crumb & Co – newsletter migration"
WAITING = {
    "provider": "rules",
    "model": "rules",
    "summary": "Kick-off for the newsletter migration.",
    "events": [
        {
            "kind": "meeting",
            "title": "Kick-off call",
            "date": "2030-03-04",
            "time": "10:00:00",
            "timezone": "Europe/London",
            "people": ["Mia"],
            "amount": None,
            "currency": "",
            "evidence": "Kick-off call on Monday 4 March at 10:00.",
            "confidence": 0.8,
            "updates_event_id": None,
            "update_action": "",
        },
        {
            "kind": "payment",
            "title": "Deposit",
            "date": None,
            "time": None,
            "timezone": "",
            "people": [],
            "amount": "1200.50",
            "currency": "GBP",
            "evidence": "We'll pay the £1,200.50 deposit.",
            "confidence": 0.7,
            "updates_event_id": None,
            "update_action": "",
        },
    ],
}


def unfiled(*projects: Project, **values: object) -> Email:
    """An email the engine was not sure about: suggestions for `projects`, then a new project."""
    suggestions = [
        {"project": p.pk, "score": round(0.45 - 0.1 * n, 2), "name": "", "client_name": "", "client_email": ""}
        for n, p in enumerate(projects)
    ]
    suggestions.append(
        {"project": None, "score": 0.2, "name": NEW_NAME, "client_name": "Crumb & Co", "client_email": "mia@crumb.co"}
    )
    fields: dict[str, object] = {
        "project": None,
        "subject": "Newsletter migration",
        "from_address": "mia@crumb.co",
        "from_name": "Mia Crumb",
        "text": "Hi,\n\nKick-off call on Monday 4 March at 10:00.\n\nMia",
        "filing": FilingState.UNFILED,
        "filing_confidence": 0.45,
        "filing_reason": "a new subject from a known client",
        "suggestions": suggestions,
        "waiting": WAITING,
    }
    fields.update(values)
    return EmailFactory(**fields)


@pytest.fixture
def projects(org):
    Organization.objects.filter(pk=org.pk).update(custom_project_limit=50)
    return (
        ProjectFactory(name="Crumb website", client_name="Crumb & Co", client_email="mia@crumb.co"),
        ProjectFactory(name="Crumb brand refresh", client_name="Crumb & Co", client_email=""),
    )


def test_unfiled_mail_lists_its_suggestions_and_waiting_events(reader, projects):
    website, brand = projects
    filed = EmailFactory(project=website, filing=FilingState.AUTO, filing_confidence=0.9, filing_reason="same thread")
    email = unfiled(website, brand)
    body = reader.get(URL, {"filed": "false"}).json()
    assert [e["code"] for e in body["items"]] == [str(email.code)]
    [item] = body["items"]
    assert (item["project"], item["filing"], item["filing_confidence"], item["filing_reason"]) == (
        None,
        "unfiled",
        0.45,
        "a new subject from a known client",
    )
    assert item["suggestions"] == [
        {
            "project": str(website.code),
            "name": "Crumb website",
            "client_name": "Crumb & Co",
            "client_email": "",
            "score": 0.45,
        },
        {
            "project": str(brand.code),
            "name": "Crumb brand refresh",
            "client_name": "Crumb & Co",
            "client_email": "",
            "score": 0.35,
        },
        {"project": None, "name": NEW_NAME, "client_name": "Crumb & Co", "client_email": "mia@crumb.co", "score": 0.2},
    ]
    meeting, payment = item["waiting_events"]
    assert (meeting["kind"], meeting["title"], meeting["date"], meeting["time"]) == (
        "meeting",
        "Kick-off call",
        "2030-03-04",
        "10:00:00",
    )
    assert meeting["evidence"] == "Kick-off call on Monday 4 March at 10:00."
    assert (payment["amount"], payment["currency"], payment["date"]) == ("1200.50", "GBP", None)
    # Filed mail is listed with filed=true, and every email says how it was filed.
    [other] = reader.get(URL, {"filed": "true"}).json()["items"]
    assert (other["code"], other["filing"], other["filing_reason"]) == (str(filed.code), "auto", "same thread")
    assert other["suggestions"] == [] and other["waiting_events"] == []


def test_the_detail_of_an_unfiled_email_has_its_suggestions_too(reader, projects):
    email = unfiled(*projects)
    body = reader.get(f"{URL}/{email.code}").json()
    assert [s["name"] for s in body["suggestions"]] == ["Crumb website", "Crumb brand refresh", NEW_NAME]
    assert [e["title"] for e in body["waiting_events"]] == ["Kick-off call", "Deposit"]
    assert body["events"] == []  # nothing on a timeline yet


def test_a_suggested_project_since_closed_or_merged_is_left_out(reader, projects):
    website, brand = projects
    Project.objects.filter(pk=website.pk).update(status=ProjectStatus.ARCHIVED)
    Project.objects.filter(pk=brand.pk).update(merged_into=ProjectFactory())
    email = unfiled(website, brand)
    [item] = reader.get(URL, {"filed": "false"}).json()["items"]
    assert item["code"] == str(email.code)
    assert [s["name"] for s in item["suggestions"]] == [NEW_NAME]


def test_the_unfiled_list_costs_the_same_queries_for_1_and_100_emails(reader, projects):
    unfiled(*projects)
    reader.get(URL, {"filed": "false"})
    with CaptureQueriesContext(connection) as one:
        assert len(reader.get(URL, {"filed": "false", "limit": 100}).json()["items"]) == 1
    others = ProjectFactory.create_batch(20)
    for n in range(99):
        unfiled(others[n % 20], *projects)
    with CaptureQueriesContext(connection) as hundred:
        items = reader.get(URL, {"filed": "false", "limit": 100}).json()["items"]
    assert len(items) == 100 and all(len(i["suggestions"]) == 4 for i in items[:99])
    assert len(hundred) == len(one), [q["sql"] for q in hundred]


def test_a_write_key_files_an_unfiled_email_into_a_suggestion_and_its_events_appear(writer, projects, world):
    website, _ = projects
    email = unfiled(*projects)
    response = writer.post(f"{URL}/{email.code}/file", {"project": str(website.code)}, "application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["project"], body["filing"], body["suggestions"], body["waiting_events"]) == (
        str(website.code),
        "hand",
        [],
        [],
    )
    assert world.admin.email in body["filing_reason"]  # the key's creator, as on the dashboard
    titles = set(Event.objects.filter(email=email, project=website).values_list("title", flat=True))
    assert titles == {"Kick-off call", "Deposit"}
    filing = EmailFiling.objects.get(email=email)
    assert (filing.actor, filing.to_project, filing.to_filing) == (world.admin, website, FilingState.HAND)
    # It taught the organization: mail from this sender now belongs to the website project.
    assert ProjectSignal.objects.filter(project=website, kind="sender", value="mia@crumb.co").exists()


def test_a_write_key_files_an_email_into_a_new_project(writer, projects):
    email = unfiled(*projects)
    response = writer.post(
        f"{URL}/{email.code}/file",
        {"new_project": {"name": NEW_NAME, "client": "Crumb & Co", "client_email": "mia@crumb.co"}},
        "application/json",
    )
    assert response.status_code == 200, response.content
    project = Project.objects.get(code=response.json()["project"])
    assert (project.name, project.client_name, project.client_email) == (NEW_NAME, "Crumb & Co", "mia@crumb.co")
    assert Event.objects.filter(email=email, project=project).count() == 2


def test_a_filed_email_moves_with_its_events_and_history(writer, projects, world):
    website, brand = projects
    email = EmailFactory(project=website, filing=FilingState.AUTO, filing_confidence=0.7)
    event = EventFactory(project=website, email=email, title="Site visit", date=dt.date(2030, 1, 2))
    response = writer.post(f"{URL}/{email.code}/file", {"project": str(brand.code)}, "application/json")
    assert response.status_code == 200, response.content
    assert response.json()["project"] == str(brand.code)
    event.refresh_from_db()
    assert event.project == brand
    moved = EventHistory.objects.get(event=event, action="moved")
    assert (moved.actor, moved.before["project"], moved.after["project"]) == (world.admin, website.pk, brand.pk)


def test_not_project_mail_takes_it_out_of_unfiled(writer, reader, projects):
    email = unfiled(*projects)
    response = writer.post(f"{URL}/{email.code}/file", {"not_project_mail": True}, "application/json")
    assert response.status_code == 200, response.content
    assert (response.json()["project"], response.json()["filing"]) == (None, "not_project")
    assert reader.get(URL, {"filed": "false"}).json()["items"] == []
    assert not Event.objects.filter(email=email).exists()


def test_a_new_project_beyond_the_plan_answers_409_with_the_reason(writer, projects, world):
    Organization.objects.filter(pk=world.org.pk).update(custom_project_limit=2)
    email = unfiled(*projects)
    response = writer.post(f"{URL}/{email.code}/file", {"new_project": {"name": NEW_NAME}}, "application/json")
    assert response.status_code == 409
    assert "plan allows no more open projects" in response.json()["detail"]
    email.refresh_from_db()
    assert (email.project, email.filing) == (None, FilingState.UNFILED)
    assert not Project.objects.filter(name=NEW_NAME).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"not_project_mail": False}, "body"),
        ({"project": "{website}", "not_project_mail": True}, "body"),
        ({"project": "{website}", "new_project": {"name": "X"}}, "body"),
        ({"project": "00000000-0000-0000-0000-000000000000"}, "project"),
        ({"project": "not-a-code"}, "project"),
        ({"project": "{archived}"}, "project"),
        ({"new_project": {"name": " "}}, "new_project.name"),
        ({"new_project": {"name": "X" * 201}}, "new_project.name"),
        ({"new_project": {"name": "Shop", "client_email": "not an address"}}, "new_project.client_email"),
        ({"not_project_mail": "maybe"}, "not_project_mail"),
        ({"new_project": {"name": "Shop\x00"}}, "new_project.name"),  # PostgreSQL text cannot hold NUL
        ({"new_project": {"name": "Shop", "client": "Crumb\x00"}}, "new_project.client"),
    ],
)
def test_bad_input_is_a_400_that_names_the_field(writer, projects, body, field):
    website, _ = projects
    archived = ProjectFactory(status=ProjectStatus.ARCHIVED)
    email = unfiled(*projects)
    raw = json.dumps(body).replace("{website}", str(website.code)).replace("{archived}", str(archived.code))
    response = writer.post(f"{URL}/{email.code}/file", raw, "application/json")
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]
    email.refresh_from_db()
    assert (email.project, email.filing) == (None, FilingState.UNFILED)


def test_an_email_being_processed_or_never_processed_answers_409(writer, projects):
    website, _ = projects
    queued = EmailFactory(project=None, state=EmailState.QUEUED)
    failed = EmailFactory(project=None, state=EmailState.FAILED)
    for email in (queued, failed):
        response = writer.post(f"{URL}/{email.code}/file", {"project": str(website.code)}, "application/json")
        assert response.status_code == 409, response.content
        assert response.json()["detail"]


def test_filing_needs_a_write_key_and_a_known_email(reader, writer, projects):
    website, _ = projects
    email = unfiled(*projects)
    body = {"project": str(website.code)}
    assert reader.post(f"{URL}/{email.code}/file", body, "application/json").status_code == 403
    unknown = "00000000-0000-0000-0000-000000000000"
    assert writer.post(f"{URL}/{unknown}/file", body, "application/json").status_code == 404
    email.refresh_from_db()
    assert email.filing == FilingState.UNFILED
