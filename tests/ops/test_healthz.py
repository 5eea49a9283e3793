"""/healthz: database, broker and the age of the oldest queued email, on every host."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import EmailState
from tests.factories import EmailFactory


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()
    yield
    cache.clear()


def test_it_reports_database_broker_and_queue(public_client, org):
    EmailFactory(state=EmailState.QUEUED, project=None, state_changed_at=timezone.now() - timedelta(seconds=30))

    response = public_client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["queue"]["depth"] == 1
    assert 25 <= body["queue"]["oldest_queued_age_seconds"] < 3600


def test_it_answers_on_a_workspace_host_too(workspace_client):
    assert workspace_client.get("/healthz").status_code == 200


def test_it_answers_503_when_an_email_has_waited_too_long_in_any_organization(public_client, org, other_org, settings):
    settings.HEALTHZ_MAX_QUEUE_AGE_SECONDS = 600
    with schema_context(other_org.schema_name):
        EmailFactory(state=EmailState.QUEUED, project=None, state_changed_at=timezone.now() - timedelta(hours=2))

    response = public_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["queue"]["status"] == "stale"


def test_it_ignores_old_mail_that_is_not_queued(public_client, org, settings):
    settings.HEALTHZ_MAX_QUEUE_AGE_SECONDS = 600
    EmailFactory(state=EmailState.PROCESSED, project=None, state_changed_at=timezone.now() - timedelta(days=3))

    assert public_client.get("/healthz").status_code == 200


def test_it_answers_503_when_the_broker_does_not_answer(public_client):
    with mock.patch("ops.views.get_broker", autospec=True) as get_broker:
        get_broker.return_value.ping.side_effect = ConnectionError("redis is down")
        response = public_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"


def test_it_answers_503_when_the_database_is_unavailable(public_client):
    with mock.patch("ops.views.connection") as connection:
        connection.cursor.side_effect = OperationalError("server closed the connection")
        response = public_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


def test_it_answers_503_when_the_database_is_gone_before_any_tenant_is_looked_up(public_client):
    # The whole request finds no database: the tenant lookup would have raised a 500 first.
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("no server")):
        response = public_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}
