"""The Claude provider's filing decision through the real context and apply: the organization's
taught signals reach the request, and the same threshold (PROJECTR_FILING_THRESHOLD) files,
leaves Unfiled with ranked suggestions, or keeps noise out of projects.
The SDK runs over its mock transport; nothing touches the network."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events.apply import extraction_apply, suggestions_of
from events.extraction_inputs import context_build, email_input_build
from events.models import FilingState
from extraction import api
from projects.models import Project, ProjectSignal
from tests.extraction.test_anthropic import Server, message
from tests.factories import EmailFactory, ProjectFactory

KICK_OFF = {
    "kind": "meeting",
    "title": "Kick-off call",
    "date": "2030-03-04",
    "time": "10:00",
    "timezone": "",
    "people": [],
    "amount": None,
    "currency": "",
    "evidence": "Kick-off call on Monday 4 March at 10:00.",
    "confidence": 0.8,
    "updates_event_id": None,
    "update_action": "",
}


@pytest.fixture
def crumb(org):
    website = ProjectFactory(name="Crumb website", client_name="Crumb & Co", client_email="mia@crumb.co")
    brand = ProjectFactory(name="Crumb brand refresh", client_name="Crumb & Co", client_email="mia@crumb.co")
    ProjectSignal.objects.create(project=brand, kind="word", value="palette")
    email = EmailFactory(
        project=None,
        subject="Newsletter migration",
        from_address="mia@crumb.co",
        from_name="Mia Crumb",
        text="Hi,\n\nKick-off call on Monday 4 March at 10:00.\n\nMia",
    )
    return website, brand, email


def claude(email: Any, project: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Extract `email` with the Claude provider answering `project` (recorded shape) and one event."""
    base = {"name": "", "client_name": "", "client_email": "", "candidates": [], "noise": "", "reason": ""}
    output = {"project": {**base, **project}, "summary": "Mia asks for a kick-off.", "events": [KICK_OFF]}
    server = Server(message(json.dumps(output)))
    extraction = api.extract(
        email_input_build(email), context_build(email), provider="anthropic", client=server.client()
    )
    return extraction, server.requests[0]


def test_the_taught_signals_reach_claude_and_an_unsure_answer_waits_in_unfiled(crumb, org):
    website, brand, email = crumb
    extraction, request = claude(
        email,
        {
            "action": "existing",
            "project_id": website.pk,
            "confidence": 0.45,
            "reason": "same client, two projects",
            "candidates": [
                {"project_id": website.pk, "name": "", "client_name": "", "client_email": "", "score": 0.45},
                {"project_id": brand.pk, "name": "", "client_name": "", "client_email": "", "score": 0.35},
                {
                    "project_id": None,
                    "name": "Crumb & Co – newsletter migration",
                    "client_name": "Crumb & Co",
                    "client_email": "mia@crumb.co",
                    "score": 0.2,
                },
            ],
        },
    )
    content = request["messages"][0]["content"]
    taught = [{"project_id": brand.pk, "words": ["palette"]}]
    assert f"<taught>\n{json.dumps(taught)}\n</taught>" in content

    result = extraction_apply(organization=org, email=email, extraction=extraction, first_run=True)

    assert (result.project, result.filing, result.filing_reason) == (
        None,
        FilingState.UNFILED,
        "same client, two projects",
    )
    assert [e["title"] for e in result.waiting["events"]] == ["Kick-off call"]
    assert suggestions_of(extraction) == [
        {"project": website.pk, "score": 0.45, "name": "", "client_name": "", "client_email": ""},
        {"project": brand.pk, "score": 0.35, "name": "", "client_name": "", "client_email": ""},
        {
            "project": None,
            "score": 0.2,
            "name": "Crumb & Co – newsletter migration",
            "client_name": "Crumb & Co",
            "client_email": "mia@crumb.co",
        },
    ]


def test_a_sure_enough_answer_is_filed_and_the_threshold_is_the_setting(crumb, org, settings):
    website, _, email = crumb
    extraction, _ = claude(email, {"action": "existing", "project_id": website.pk, "confidence": 0.45})
    settings.PROJECTR_FILING_THRESHOLD = 0.4

    result = extraction_apply(organization=org, email=email, extraction=extraction, first_run=True)

    assert (result.project, result.filing) == (website, FilingState.AUTO)
    assert [e.title for e in result.created_events] == ["Kick-off call"]


def test_a_sender_people_taught_files_at_once_however_unsure_claude_is(crumb, org):
    _, brand, email = crumb
    ProjectSignal.objects.create(project=brand, kind="sender", value="mia@crumb.co")
    extraction, _ = claude(email, {"action": "existing", "project_id": brand.pk, "confidence": 0.2})

    result = extraction_apply(organization=org, email=email, extraction=extraction, first_run=True)

    assert (result.project, result.filing, result.filing_reason) == (brand, FilingState.AUTO, "taught: this sender")


def test_noise_never_makes_a_project(crumb, org):
    *_, email = crumb
    extraction, _ = claude(
        email,
        {"action": "new", "project_id": None, "name": "Crumb – SEO audit", "confidence": 0.9, "noise": "pitch"},
    )
    projects = Project.objects.count()

    result = extraction_apply(organization=org, email=email, extraction=extraction, first_run=True)

    assert (result.project, result.filing, result.created_events) == (None, FilingState.NOT_PROJECT, [])
    assert Project.objects.count() == projects
