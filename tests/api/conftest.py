"""API test world: keys of the test workspace (read, write, revoked) and one of the other workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from api.models import ApiKeyScope
from api.services import api_key_create, api_key_revoke


@dataclass
class Keys:
    read: str
    write: str
    revoked: str
    other_org: str


@pytest.fixture
def keys(world: Any, other_org: Any) -> Keys:
    read = api_key_create(organization=world.org, actor=world.admin, name="Reports", scope=ApiKeyScope.READ)
    write = api_key_create(organization=world.org, actor=world.admin, name="CRM sync", scope=ApiKeyScope.WRITE)
    revoked = api_key_create(organization=world.org, actor=world.admin, name="Old", scope=ApiKeyScope.WRITE)
    api_key_revoke(api_key=revoked.api_key, actor=world.admin)
    other = api_key_create(organization=other_org, actor=world.outsider, name="Theirs", scope=ApiKeyScope.WRITE)
    connection.set_tenant(world.org)
    return Keys(read=read.secret, write=write.secret, revoked=revoked.secret, other_org=other.secret)


@pytest.fixture
def api_client(org: Any) -> Any:
    """api_client(key) → a client on the test workspace host sending `Authorization: Bearer <key>`."""

    def make(key: str | None) -> Client:
        headers = {"HTTP_HOST": org.host}
        if key is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        return Client(**headers)

    return make


@pytest.fixture
def reader(keys: Keys, api_client: Any) -> Client:
    return api_client(keys.read)  # type: ignore[no-any-return]


@pytest.fixture
def writer(keys: Keys, api_client: Any) -> Client:
    return api_client(keys.write)  # type: ignore[no-any-return]
