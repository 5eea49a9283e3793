"""No endpoint returns another organization's data: its codes are 404 and its rows never appear in lists."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import connection
from django_tenants.utils import schema_context

from events.models import EmailState
from tests.factories import EmailFactory, EventFactory, ProjectFactory
from usage.models import UsageRecord

MARK = "zzleak"


def test_a_key_never_reaches_another_organizations_rows(keys, writer, world, other_org):
    with schema_context(other_org.schema_name):
        project = ProjectFactory(name=f"{MARK} project", client_name=MARK)
        email = EmailFactory(project=project, subject=f"{MARK} mail", state=EmailState.FAILED)
        event = EventFactory(project=project, email=email, title=f"{MARK} event")
        codes = {"projects": project.code, "events": event.code, "emails": email.code}
    UsageRecord.objects.create(
        organization=other_org, email_code=uuid.uuid4(), provider="anthropic", cost_usd=Decimal("7.77")
    )
    connection.set_tenant(world.org)
    ProjectFactory(name="Ours")

    for resource, code in codes.items():
        assert writer.get(f"/api/v1/{resource}/{code}").status_code == 404, resource
    assert writer.patch(f"/api/v1/projects/{project.code}", {"name": "x"}, "application/json").status_code == 404
    assert writer.patch(f"/api/v1/events/{event.code}", {"title": "x"}, "application/json").status_code == 404
    assert writer.delete(f"/api/v1/events/{event.code}").status_code == 404
    assert writer.post(f"/api/v1/emails/{email.code}/reprocess").status_code == 404
    body = {"project": str(project.code), "kind": "deadline", "title": "x"}
    assert writer.post("/api/v1/events", body, "application/json").status_code == 400
    for path in ("projects", "events", "emails", "usage", "usage/daily", "subscription"):
        response = writer.get(f"/api/v1/{path}")
        assert response.status_code == 200
        assert MARK not in response.content.decode() and "7.77" not in response.content.decode(), path
    with schema_context(other_org.schema_name):
        event.refresh_from_db()
        email.refresh_from_db()
        assert (event.title, event.deleted_at, email.state) == (f"{MARK} event", None, EmailState.FAILED)
