"""The OpenAPI schema: valid, served, with offline docs; and a schemathesis run over it finds no 500."""

from __future__ import annotations

import datetime as dt
import json
import re
import typing
from urllib.parse import urlencode

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET

from api import schemas
from api.api_v1 import api
from events.models import EmailState, EventKind, EventStatus, FilingState
from projects.models import ProjectStatus
from tests.factories import EmailFactory, EventFactory, ProjectFactory


def test_the_schema_is_valid_openapi(reader):
    response = reader.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {"type": "http", "scheme": "bearer"}
    assert len(schema["paths"]) == 11


def test_the_interactive_docs_work_offline(reader):
    response = reader.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    # Nothing loads from another host: every script and stylesheet is ours.
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith("/static/"), url
    # Shipped by django-ninja and collected like our own static files (WhiteNoise serves them).
    for name in ("swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"):
        assert finders.find(f"ninja/{name}"), name


def test_the_schemas_choices_match_the_models():
    assert typing.get_args(schemas.ProjectStatusName) == tuple(ProjectStatus.values)
    assert typing.get_args(schemas.EventKindName) == tuple(EventKind.values)
    assert typing.get_args(schemas.EventStatusName) == tuple(EventStatus.values)
    assert typing.get_args(schemas.EmailStateName) == tuple(EmailState.values)
    assert typing.get_args(schemas.FilingName) == tuple(FilingState.values)


def _strategies(known: dict[str, str]) -> st.SearchStrategy:
    """Valid and invalid cases of every operation, with path codes both random and of real objects."""
    spec = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema(), default=str)))
    options = []
    for result in spec.get_all_operations():
        operation = result.ok()
        resource = operation.path.split("/")[3]  # /api/v1/<resource>/…
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            options.append(operation.as_strategy(generation_mode=mode))
            if "{code}" in operation.path:
                options.append(operation.as_strategy(generation_mode=mode, path_parameters={"code": known[resource]}))
    return st.one_of(options)


def _send(client, case):
    path = case.formatted_path
    if case.query:
        path += "?" + urlencode(case.query, doseq=True)
    if case.body is NOT_SET:
        return client.generic(case.method, path)
    return client.generic(case.method, path, json.dumps(case.body, default=str), content_type="application/json")


@pytest.mark.parametrize("key", ["read", "write"])
def test_a_schemathesis_run_over_the_schema_finds_no_server_error(key, keys, api_client, settings):
    settings.API_RATE_LIMIT = "100000/min"
    project = ProjectFactory()
    email = EmailFactory(project=project, state=EmailState.FAILED)
    event = EventFactory(project=project, email=email, date=dt.date(2030, 1, 2))
    known = {"projects": str(project.code), "events": str(event.code), "emails": str(email.code)}
    client = api_client(getattr(keys, key))
    seen: set[int] = set()

    @settings_for_the_run
    @given(case=_strategies(known))
    def run(case):
        response = _send(client, case)
        seen.add(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body)
        if response.status_code == 400:
            assert response.json()["errors"], response.content

    run()
    # The run reached real successes and real refusals, not only 404s.
    assert {200, 400} <= seen, seen


settings_for_the_run = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
