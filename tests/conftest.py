"""The test world: one session-scoped workspace (plus a second one for isolation checks),
and per test an owner, admin, member, viewer and outsider.

Workspaces are created once per test database (cloned from the template schema) and kept
with --reuse-db; every test runs inside a transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from accounts.models import User
from billing.services import plans_ensure
from organizations.models import Membership, Organization, Role
from organizations.services import organization_create, platform_ensure

ROOT = Path(__file__).resolve().parent.parent
# Mail and webhook payloads written by others (tests/corpora/README.md, SOURCES.md).
CORPORA = ROOT / "tests" / "corpora"

TEST_ORG_SLUG = "testorg"
OTHER_ORG_SLUG = "otherorg"


def _get_or_create_org(slug: str, name: str) -> Organization:
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        org = organization_create(
            name=name, slug=slug, owner_email=f"owner@{slug}.test", send_invitation=False
        ).organization
    return org


@pytest.fixture(scope="session", autouse=False)
def _platform_base(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        platform_ensure()
        plans_ensure()


@pytest.fixture(scope="session")
def session_orgs(
    _platform_base: None, django_db_setup: Any, django_db_blocker: Any
) -> tuple[Organization, Organization]:
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        return _get_or_create_org(TEST_ORG_SLUG, "Test Org"), _get_or_create_org(OTHER_ORG_SLUG, "Other Org")


@pytest.fixture
def org(session_orgs: tuple[Organization, Organization], db: None) -> Iterator[Organization]:
    """The test workspace, with the connection on its schema for the duration of the test."""
    organization = Organization.objects.get(pk=session_orgs[0].pk)
    connection.set_tenant(organization)
    yield organization
    connection.set_schema_to_public()


@pytest.fixture
def other_org(session_orgs: tuple[Organization, Organization], db: None) -> Organization:
    return Organization.objects.get(pk=session_orgs[1].pk)


@pytest.fixture
def public(session_orgs: tuple[Organization, Organization], db: None) -> Organization:
    return Organization.objects.get(schema_name="public")


@dataclass
class World:
    org: Organization
    owner: User
    admin: User
    member: User
    viewer: User
    outsider: User

    def user(self, role: str) -> User:
        return getattr(self, role)  # type: ignore[no-any-return]


ROLES = ["owner", "admin", "member", "viewer"]


def make_user(email: str, password: str | None = None) -> User:
    """A verified user. Without a password (the default) no hashing runs, which keeps fixtures fast."""
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def world(org: Organization, other_org: Organization) -> World:
    users = {role: make_user(f"{role}@testorg.test") for role in ROLES}
    for role, user in users.items():
        Membership.objects.create(user=user, organization=org, role=Role(role))
    outsider = make_user("outsider@otherorg.test")
    Membership.objects.create(user=outsider, organization=other_org, role=Role.OWNER)
    return World(org=org, outsider=outsider, **users)


@pytest.fixture
def workspace_client(org: Organization) -> Client:
    """An anonymous client on the test workspace host."""
    return Client(HTTP_HOST=org.host)


@pytest.fixture
def public_client(public: Organization) -> Client:
    from django.conf import settings

    return Client(HTTP_HOST=settings.BASE_DOMAIN)


@pytest.fixture
def client_as(org: Organization) -> Any:
    """client_as(user) → a client signed in on the test workspace host."""

    def make(user: User, host: str | None = None) -> Client:
        client = Client(HTTP_HOST=host or org.host)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def broker_tasks(db: None) -> Any:
    """The tasks waiting in django-q2's database broker, as (function, args) pairs."""

    def tasks() -> list[tuple[str, tuple[Any, ...]]]:
        packages = (SignedPackage.loads(row.payload) for row in OrmQ.objects.order_by("pk"))
        return [(package["func"], tuple(package["args"])) for package in packages]

    return tasks
