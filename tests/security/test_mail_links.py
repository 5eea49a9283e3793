"""Every link we mail (invitations, resets, digests) and the hand-off redirect are built from
BASE_DOMAIN and PUBLIC_PORT, never from the Host header, whose port a visitor writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from events.digest import digest_send_organization
from events.models import Event, EventKind
from projects.models import Project
from tests.conftest import make_user
from tests.worker import run_queued_tasks

FORGED_PORT = "6666"


@pytest.fixture(autouse=True)
def public_port(settings):
    settings.PUBLIC_PORT = "8443"


def test_an_invitation_link_ignores_the_inviting_requests_port(world, client_as, django_capture_on_commit_callbacks):
    admin = client_as(world.admin, host=f"{world.org.host}:{FORGED_PORT}")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/team/", {"email": "new@client.test", "role": "member"})
    assert response.status_code == 302
    run_queued_tasks("organizations.tasks.")

    [message] = mail.outbox
    assert FORGED_PORT not in message.body
    assert world.org.absolute_url("/invite/") in message.body
    assert f"{world.org.host}:8443/invite/" in message.body


def test_a_reset_link_and_the_site_it_names_ignore_the_requests_port(world, public):
    make_user("forgetful@testorg.test", password="an-old-and-forgotten-phrase")
    client = Client(HTTP_HOST=f"localhost:{FORGED_PORT}")
    assert client.post("/accounts/password/reset/", {"email": "forgetful@testorg.test"}).status_code == 302

    [message] = mail.outbox
    assert FORGED_PORT not in message.subject + message.body
    assert "://localhost:8443/accounts/password/reset/key/" in message.body


def test_the_mail_to_an_unknown_address_ignores_the_requests_port(world, public):
    client = Client(HTTP_HOST=f"localhost:{FORGED_PORT}")
    client.post("/accounts/password/reset/", {"email": "nobody@nowhere.test"})

    [message] = mail.outbox
    assert FORGED_PORT not in message.subject + message.body
    assert "localhost:8443" in message.body


def test_the_digest_links_to_the_workspace_host_on_the_public_port(org, world):
    project = Project.objects.create(name="Kitchen refit", slug="kitchen-refit")
    Event.objects.create(
        project=project, title="Handover", kind=EventKind.DEADLINE, date=timezone.localdate() + dt.timedelta(days=2)
    )
    assert digest_send_organization(org.schema_name) > 0
    body = mail.outbox[0].body
    assert f"{org.host}:8443/projects/{project.code}/" in body


def test_the_handoff_redirect_ignores_the_requests_port(world, client_as):
    client = client_as(world.member, host=f"localhost:{FORGED_PORT}")
    response = client.post(f"/workspaces/{world.org.slug}/open/")
    assert response.status_code == 302
    assert response["Location"].startswith(world.org.absolute_url("/handoff/"))
    assert f"{world.org.host}:8443/handoff/" in response["Location"]
