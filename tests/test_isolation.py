"""Isolation proof: nothing of another organization is reachable from a workspace.

Every route of the tenant URLconf is walked with the *other* organization's real ids and
codes (chosen by parameter name and by where the route lives), for every role of the test
organization, and must answer 404. Public-schema rows (memberships, invitations, allowed
senders, deliveries, usage) are not protected by schemas, so every page and export is read
by every role and must not contain any of the other organization's rows.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver
from django.utils import timezone
from django_tenants.utils import schema_context

from api.services import api_key_create
from inbound.models import Delivery, RefusalCause, Verdict
from organizations.handoff import handoff_token_create
from organizations.models import AllowedSender, Membership, Organization, Role, TrustedDomain
from organizations.services import invitation_create
from projects.services import project_merge
from tests.conftest import ROLES, make_user
from tests.factories import AttachmentFactory, EmailFactory, EventFactory, ProjectFactory
from tests.organizations.test_access_matrix import _fill, _walk
from usage.models import DailyUsage, UsageRecord

# Everything the other organization owns carries this marker, so a leak shows in any body.
MARK = "zzleak"


@dataclass
class Foreign:
    """The other organization's real objects, by the URL parameter that names them."""

    organization: Organization
    project_code: str
    email_code: str
    attachment_code: str
    event_code: str
    invitation_code: str
    invitation_token: str
    membership_pk: int
    sender_pk: int
    org_feed_token: str
    project_feed_token: str
    handoff_token: str
    api_key_code: str
    merge_code: str = ""
    refused_pk: int = 0  # a refused delivery with its message kept
    trusted_pk: int = 0  # a domain trusted without authentication


@pytest.fixture
def foreign(world: Any, other_org: Organization) -> Foreign:
    with schema_context(other_org.schema_name):
        project = ProjectFactory(name=f"{MARK} project", client_name=f"{MARK} client", feed_token=f"{MARK}-ptoken")
        email = EmailFactory(project=project, subject=f"{MARK} subject", from_address=f"{MARK}@client.example")
        attachment = AttachmentFactory(email=email, filename=f"{MARK}.pdf")
        event = EventFactory(project=project, email=email, title=f"{MARK} meeting")
        merge = project_merge(
            source=ProjectFactory(name=f"{MARK} merged away"), target=ProjectFactory(name=f"{MARK} kept"), actor=None
        )
        # Unfiled mail waiting with a suggestion of that project and a proposed new one.
        EmailFactory(
            project=None,
            filing="unfiled",
            subject=f"{MARK} unfiled",
            suggestions=[
                {"project": project.pk, "score": 0.5, "name": "", "client_name": "", "client_email": ""},
                {"project": None, "score": 0.4, "name": f"{MARK} new", "client_name": MARK, "client_email": ""},
            ],
        )
    Organization.objects.filter(pk=other_org.pk).update(feed_token=f"{MARK}-otoken")
    other_org.refresh_from_db()
    teammate = make_user(f"{MARK}-member@otherorg.test")
    membership = Membership.objects.create(user=teammate, organization=other_org, role=Role.MEMBER)
    invitation, token = invitation_create(
        organization=other_org, email=f"{MARK}-invitee@otherorg.test", role="member", invited_by=None, send=False
    )
    sender = AllowedSender.objects.create(organization=other_org, pattern=f"@{MARK}.example")
    trusted = TrustedDomain.objects.create(organization=other_org, domain=f"{MARK}.example")
    refused = Delivery.objects.create(
        provider="postmark",
        organization=other_org,
        verdict=Verdict.REJECTED,
        cause=RefusalCause.SENDER_POLICY,
        kept=f"refused/{MARK}.eml",
        sender=f"{MARK}-stranger@client.example",
        subject=f"{MARK} refused",
    )
    for verdict in (Verdict.ACCEPTED, Verdict.REJECTED, Verdict.INVALID):
        Delivery.objects.create(
            provider="postmark",
            organization=other_org,
            verdict=verdict,
            sender=f"{MARK}-sender@client.example",
            subject=f"{MARK} delivery",
            reason=f"{MARK} reason",
            message_id=f"<{MARK}@client.example>",
        )
    UsageRecord.objects.create(
        organization=other_org, provider="anthropic", model=f"{MARK}-model", cost_usd=Decimal("12.345678")
    )
    api_key = api_key_create(organization=other_org, actor=None, name=f"{MARK} key", scope="write").api_key
    DailyUsage.objects.create(
        organization=other_org,
        day=timezone.localdate() - dt.timedelta(days=1),
        provider="anthropic",
        model=f"{MARK}-model",
        calls=3,
        cost_usd=Decimal("12.345678"),
    )
    return Foreign(
        organization=other_org,
        project_code=str(project.code),
        email_code=str(email.code),
        attachment_code=str(attachment.code),
        event_code=str(event.code),
        invitation_code=str(invitation.code),
        invitation_token=token,
        membership_pk=membership.pk,
        sender_pk=sender.pk,
        org_feed_token=other_org.feed_token,
        project_feed_token=project.feed_token,
        handoff_token=handoff_token_create(user=world.outsider, organization=other_org),
        api_key_code=str(api_key.code),
        merge_code=str(merge.code),
        refused_pk=refused.pk,
        trusted_pk=trusted.pk,
    )


def _routes() -> list[str]:
    return sorted({r for r in _walk(get_resolver("config.urls_tenant").url_patterns) if "(?P" not in r})


# The JSON API authenticates with Bearer keys only (api/auth.py): it is walked with a key of
# the test organization below, not with sessions.
API = "api/v1/"


def _value(route: str, name: str, foreign: Foreign) -> str | None:
    """The other organization's id for parameter `name` of `route` (None: nothing of theirs fits)."""
    if name == "code":
        if route.startswith("projects/merges/"):
            return foreign.merge_code
        if route.startswith(("projects/", "feeds/projects/", "api/v1/projects/")):
            return foreign.project_code
        if route.startswith(("inbox/", "api/v1/emails/")):
            return foreign.email_code
        if route.startswith("api/v1/events/"):
            return foreign.event_code
        if route.startswith("settings/api-keys/"):
            return foreign.api_key_code
        if route.startswith("team/invitations/"):
            return foreign.invitation_code
    by_name = {
        "attachment_code": foreign.attachment_code,
        "event_code": foreign.event_code,
        "fmt": "csv",
    }
    if name in by_name:
        return by_name[name]
    if name == "pk":
        if route.startswith("inbox/refused/"):
            return str(foreign.refused_pk)
        if route.startswith("settings/trusted-domains/"):
            return str(foreign.trusted_pk)
        return str(foreign.sender_pk if route.startswith("settings/senders/") else foreign.membership_pk)
    if name == "token":
        if route.startswith("feeds/projects/"):
            return foreign.project_feed_token
        if route.startswith("feeds/"):
            return foreign.org_feed_token
        if route.startswith("invite/"):
            return foreign.invitation_token
        if route.startswith("handoff/"):
            return foreign.handoff_token
    return None


def _foreign_paths(foreign: Foreign) -> list[tuple[str, str]]:
    """(route, path) for every route that names an object, filled with the other organization's."""
    paths = []
    for route in _routes():
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        # Routes that name no object of an organization (their own pages, a plan code,
        # allauth's keys) are covered by the leak test below and the access matrix.
        if not names or route.startswith("accounts/") or names == ["plan_code"] or names == ["fmt"]:
            continue
        path = route
        for name in names:
            value = _value(route, name, foreign)
            assert value is not None, f"No foreign object for <{name}> in {route}: add it to the isolation proof"
            path = re.sub(rf"<(?:\w+:)?{name}>", value, path, count=1)
        paths.append((route, "/" + path))
    return paths


# Links that carry their own secret (feeds, invitations, hand-offs) are open to anyone; the
# foreign secret must still open nothing. Invitation and hand-off links answer 404/403 pages.
TOKEN_ROUTES = ("invite/", "handoff/")


def test_it_finds_an_object_for_every_parameterised_route(foreign):
    routes = {route for route, _ in _foreign_paths(foreign)}
    assert "inbox/<uuid:code>/attachments/<uuid:attachment_code>/" in routes
    assert "feeds/<str:token>.ics" in routes
    assert "team/members/<int:pk>/role/" in routes
    assert len(routes) >= 20


@pytest.mark.parametrize("role", ROLES)
def test_it_answers_404_for_every_foreign_object_to_every_role(role, world, foreign, client_as):
    """A foreign id gets exactly the answer a made-up id gets, and the owner (who may do
    everything) gets 404. Lower roles may get 403 or 405 first: the role check and the
    method check run before any lookup, so their answer is the same for every id."""
    client = client_as(world.user(role))
    failures = []
    for route, path in _foreign_paths(foreign):
        if route.startswith(API):
            continue
        allowed = (403, 404) if route.startswith(TOKEN_ROUTES) else (404,)
        statuses = []
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            made_up = getattr(client, method)(_fill(route)).status_code
            statuses.append(response.status_code)
            body = response.content.decode(errors="replace")
            if response.status_code != made_up or response.status_code not in (403, 404, 405) or MARK in body:
                failures.append((method.upper(), path, response.status_code, made_up))
        if role == "owner" and not set(statuses) & set(allowed):
            failures.append(("ANY", path, statuses))
    assert failures == []


def test_foreign_tokens_open_nothing_for_anonymous_visitors(world, foreign, workspace_client):
    for route, path in _foreign_paths(foreign):
        if route.startswith(("feeds/", *TOKEN_ROUTES)):
            response = workspace_client.get(path)
            assert response.status_code in (403, 404), path
            assert MARK not in response.content.decode(errors="replace")


def test_the_handoff_token_of_another_organization_signs_nobody_in(world, foreign, workspace_client):
    workspace_client.get(f"/handoff/{foreign.handoff_token}/")
    assert "_auth_user_id" not in workspace_client.session


def test_a_foreign_event_under_an_own_project_is_404(world, foreign, client_as):
    own = ProjectFactory(name="Own project")
    client = client_as(world.owner)
    for suffix in ("", "edit/", "done/", "delete/", "restore/", "move/"):
        assert client.get(f"/projects/{own.code}/events/{foreign.event_code}/{suffix}").status_code in (404, 405)
        assert client.post(f"/projects/{own.code}/events/{foreign.event_code}/{suffix}").status_code == 404


def test_a_foreign_attachment_under_an_own_email_is_404(world, foreign, client_as):
    own = EmailFactory(subject="Own email")
    response = client_as(world.owner).get(f"/inbox/{own.code}/attachments/{foreign.attachment_code}/")
    assert response.status_code == 404


# Every page and export of the workspace, read by every role: the public-schema rows of the
# other organization (team, invitations, senders, deliveries, usage) never show.
PAGES = [
    "/",
    "/agenda/",
    "/agenda/?person=mine",
    "/projects/",
    "/projects/new/",
    "/projects/export.csv",
    "/projects/export.json",
    "/projects/export.ics",
    "/inbox/",
    "/inbox/?state=failed",
    "/inbox/?verdict=rejected",
    "/inbox/?tab=rejected",
    "/inbox/unfiled/",
    f"/search/?q={MARK[:-1]}",  # a prefix of the word all the other organization's rows carry
    "/usage/",
    "/usage/export.csv",
    "/billing/",
    "/team/",
    "/settings/",
    "/settings/api-keys/",
]


def test_the_page_list_covers_every_parameterless_page(world, client_as):
    client = client_as(world.owner)
    listed = {page.split("?")[0] for page in PAGES}
    for route in _routes():
        if "<" in route or route.startswith(("accounts/", "healthz", API)) or "/" + route in listed:
            continue
        # Not listed: only POST actions (they render no rows of anyone).
        assert client.get("/" + route).status_code == 405, route


@pytest.mark.parametrize("role", ROLES)
def test_no_page_or_export_shows_another_organizations_rows(role, world, foreign, client_as):
    client = client_as(world.user(role))
    for page in PAGES:
        response = client.get(page)
        assert response.status_code in (200, 302, 403, 404), (page, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert MARK.encode() not in body, (role, page)


def test_the_rejected_deliveries_list_shows_own_rows_only(world, foreign, client_as):
    # The list renders (so the leak check above can fail): the own refused delivery shows.
    Delivery.objects.create(
        provider="postmark", organization=world.org, verdict=Verdict.REJECTED, sender="ownrow@client.example"
    )
    body = client_as(world.admin).get("/inbox/").content.decode()
    assert "ownrow@client.example" in body or "ownrow" in body
    assert MARK not in body


def test_the_workspace_list_on_the_public_host_shows_only_own_workspaces(world, foreign, public):
    client = Client(HTTP_HOST="localhost")
    client.force_login(world.owner)
    body = client.get("/workspaces/").content.decode()
    assert world.org.name in body
    assert foreign.organization.name not in body
    assert client.post(f"/workspaces/{foreign.organization.slug}/open/").status_code == 404


@pytest.mark.parametrize("scope", ["read", "write"])
def test_the_api_answers_404_for_every_foreign_object(scope, world, foreign):
    """Every API route that names an object, with the other organization's code, for a key of
    the test organization: GET, POST, PATCH and DELETE never reach it."""
    secret = api_key_create(organization=world.org, actor=None, name="Own key", scope=scope).secret
    client = Client(HTTP_HOST=world.org.host, HTTP_AUTHORIZATION=f"Bearer {secret}")
    paths = [(route, path) for route, path in _foreign_paths(foreign) if route.startswith(API)]
    assert {route for route, _ in paths} >= {f"{API}projects/<code>", f"{API}events/<code>", f"{API}emails/<code>"}
    failures = []
    for route, path in paths:
        answers = []
        for method in ("get", "post", "patch", "delete"):
            body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
            response = getattr(client, method)(path, **body)
            # API paths name codes without a converter: a made-up code is a fresh UUID.
            made_up = getattr(client, method)(_fill(route).replace("no-such-thing", str(uuid.uuid4())), **body)
            answers.append(response.status_code)
            if response.status_code != made_up.status_code or MARK in response.content.decode(errors="replace"):
                failures.append((method.upper(), path, response.status_code, made_up.status_code))
        if 404 not in answers and not (scope == "read" and 403 in answers):
            failures.append(("ANY", path, answers))
    assert failures == []


def test_the_api_lists_never_show_foreign_rows(world, foreign):
    secret = api_key_create(organization=world.org, actor=None, name="Own key", scope="read").secret
    client = Client(HTTP_HOST=world.org.host, HTTP_AUTHORIZATION=f"Bearer {secret}")
    for route in _routes():
        if route.startswith(API) and "<" not in route:
            response = client.get("/" + route)
            assert response.status_code in (200, 404, 405), (route, response.status_code)
            assert MARK not in response.content.decode(errors="replace"), route


def test_a_foreign_api_key_opens_nothing_here(world, foreign):
    secret = api_key_create(organization=foreign.organization, actor=None, name="Theirs", scope="write").secret
    client = Client(HTTP_HOST=world.org.host, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"/{API}projects").status_code == 401
