"""Every API operation × (no key, another organization's key, revoked key, read key, write key),
plus sessions: a signed-in browser without a key gets nothing from the API."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from api.api_v1 import api
from events.models import EmailState
from tests.factories import EmailFactory, EventFactory, ProjectFactory

# (method, path template, body, needs write). {project}, {event}, {email} are filled per test.
OPERATIONS = [
    ("get", "/api/v1/projects", None, False),
    ("get", "/api/v1/projects/{project}", None, False),
    ("post", "/api/v1/projects", {"name": "New build"}, True),
    ("patch", "/api/v1/projects/{project}", {"status": "on_hold"}, True),
    ("get", "/api/v1/events", None, False),
    ("get", "/api/v1/events/{event}", None, False),
    ("post", "/api/v1/events", {"project": "{project}", "kind": "deadline", "title": "Tiles"}, True),
    ("patch", "/api/v1/events/{event}", {"title": "Tiles chosen"}, True),
    ("delete", "/api/v1/events/{event}", None, True),
    ("get", "/api/v1/emails", None, False),
    ("get", "/api/v1/emails/{email}", None, False),
    ("post", "/api/v1/emails/{email}/reprocess", None, True),
    ("post", "/api/v1/emails/{email}/file", {"project": "{project}"}, True),
    ("get", "/api/v1/usage", None, False),
    ("get", "/api/v1/usage/daily", None, False),
    ("get", "/api/v1/subscription", None, False),
]
IDS = [f"{method} {path}" for method, path, _, _ in OPERATIONS]


@pytest.fixture
def objects(org):
    project = ProjectFactory(name="Kitchen refit")
    email = EmailFactory(project=project, state=EmailState.FAILED)
    event = EventFactory(project=project, email=email, date=dt.date(2030, 1, 2))
    return {"project": str(project.code), "event": str(event.code), "email": str(email.code)}


def call(client, method, path, body, objects):
    url = path.format(**objects)
    if body is None:
        return getattr(client, method)(url)
    payload = json.loads(json.dumps(body).replace("{project}", objects["project"]))
    return getattr(client, method)(url, payload, content_type="application/json")


def test_the_matrix_covers_every_operation_of_the_schema():
    schema = api.get_openapi_schema()
    documented = {
        (method, path.replace("{code}", "{x}")) for path, operations in schema["paths"].items() for method in operations
    }
    covered = {
        (method, path.replace("{project}", "{x}").replace("{event}", "{x}").replace("{email}", "{x}"))
        for method, path, _, _ in OPERATIONS
    }
    assert documented == covered


@pytest.mark.parametrize(("method", "path", "body", "write"), OPERATIONS, ids=IDS)
@pytest.mark.parametrize("who", ["none", "other_org", "revoked", "garbage"])
def test_it_refuses_requests_without_a_live_key_of_this_organization(
    method, path, body, write, who, keys, api_client, objects
):
    key = {"none": None, "other_org": keys.other_org, "revoked": keys.revoked, "garbage": "prj_nope"}[who]
    response = call(api_client(key), method, path, body, objects)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "Bearer" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body", "write"), OPERATIONS, ids=IDS)
def test_a_read_key_reads_but_never_writes(method, path, body, write, reader, objects):
    response = call(reader, method, path, body, objects)
    if write:
        assert response.status_code == 403
        assert "read-only" in response.json()["detail"]
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "write"), OPERATIONS, ids=IDS)
def test_a_write_key_does_everything(method, path, body, write, writer, objects):
    response = call(writer, method, path, body, objects)
    assert response.status_code in (200, 201, 202, 204), response.content


@pytest.mark.parametrize(("method", "path", "body", "write"), OPERATIONS, ids=IDS)
def test_a_signed_in_browser_without_a_key_gets_401_not_its_session(
    method, path, body, write, world, client_as, objects
):
    # Session cookies are never accepted, so no other site can make a member's browser write (no CSRF surface).
    client = client_as(world.owner)
    client.cookies.load({"csrftoken": "x"})
    response = call(client, method, path, body, objects)
    assert response.status_code == 401


def test_a_key_only_works_on_its_own_workspace_host(keys, api_client, other_org):
    from django.test import Client

    theirs = Client(HTTP_HOST=other_org.host, HTTP_AUTHORIZATION=f"Bearer {keys.write}")
    assert theirs.get("/api/v1/projects").status_code == 401
    assert api_client(keys.write).get("/api/v1/projects").status_code == 200


def test_the_api_is_not_mounted_on_the_public_host(keys, public_client):
    response = public_client.get("/api/v1/projects", HTTP_AUTHORIZATION=f"Bearer {keys.write}")
    assert response.status_code == 404
