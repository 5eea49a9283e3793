"""The API keys page: admins create (shown once), list by prefix and revoke; nobody else can."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from api.models import ApiKey, ApiKeyScope
from api.services import ApiKeyLimitReached, api_key_create, api_key_revoke

LIST = "/settings/api-keys/"


def created_secret(response) -> str:
    match = re.search(r'value="(prj_[^"]+)" id="new-api-key"', response.content.decode())
    assert match
    return match.group(1)


def test_the_settings_page_links_admins_to_the_keys_page(world, client_as):
    assert reverse("api_keys:list") == LIST
    assert LIST in client_as(world.admin).get("/settings/").content.decode()
    assert LIST not in client_as(world.member).get("/settings/").content.decode()


def test_it_creates_a_key_shows_it_once_and_stores_only_its_hash(world, client_as, api_client):
    admin = client_as(world.admin)
    response = admin.post(LIST, {"name": "CRM sync", "scope": "write"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = created_secret(response)
    key = ApiKey.objects.get(organization=world.org, name="CRM sync")
    assert key.scope == ApiKeyScope.WRITE
    assert key.created_by == world.admin
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(key.prefix) and len(secret) > 40
    assert not ApiKey.objects.filter(key_hash=secret).exists()
    listed = admin.get(LIST).content.decode()
    assert key.prefix in listed
    assert secret not in listed
    assert api_client(secret).get("/api/v1/projects").status_code == 200


def test_it_names_the_field_when_the_form_is_wrong(world, client_as):
    response = client_as(world.admin).post(LIST, {"name": "  ", "scope": "admin"})
    assert response.status_code == 200
    assert not ApiKey.objects.filter(organization=world.org).exists()
    assert response.context["form"].errors.keys() == {"name", "scope"}


def test_it_revokes_a_key_and_the_next_request_gets_401(world, client_as, api_client):
    new = api_key_create(organization=world.org, actor=world.owner, name="Script", scope="read")
    assert api_client(new.secret).get("/api/v1/projects").status_code == 200
    response = client_as(world.owner).post(reverse("api_keys:revoke", args=[new.api_key.code]))
    assert response.status_code == 302
    new.api_key.refresh_from_db()
    assert new.api_key.revoked_at is not None and new.api_key.revoked_by == world.owner
    assert api_client(new.secret).get("/api/v1/projects").status_code == 401
    assert "Revoked" in client_as(world.owner).get(LIST).content.decode()


def test_it_never_lists_or_revokes_another_organizations_keys(world, client_as, other_org):
    theirs = api_key_create(organization=other_org, actor=world.outsider, name="Theirs", scope="write")
    admin = client_as(world.admin)
    assert theirs.api_key.prefix not in admin.get(LIST).content.decode()
    assert admin.post(reverse("api_keys:revoke", args=[theirs.api_key.code])).status_code == 404
    theirs.api_key.refresh_from_db()
    assert theirs.api_key.revoked_at is None


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_it_refuses_members_below_admin(role, world, client_as):
    client = client_as(world.user(role))
    key = api_key_create(organization=world.org, actor=world.owner, name="Script", scope="read").api_key
    assert client.get(LIST).status_code == 403
    assert client.post(LIST, {"name": "Mine", "scope": "write"}).status_code == 403
    assert client.post(reverse("api_keys:revoke", args=[key.code])).status_code == 403
    assert ApiKey.objects.filter(organization=world.org).count() == 1


def test_it_hides_the_page_from_outsiders_and_sends_anonymous_visitors_to_sign_in(world, client_as, workspace_client):
    assert client_as(world.outsider).get(LIST).status_code == 404
    response = workspace_client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_revoke_only_accepts_post(world, client_as):
    key = api_key_create(organization=world.org, actor=world.owner, name="Script", scope="read").api_key
    assert client_as(world.admin).get(reverse("api_keys:revoke", args=[key.code])).status_code == 405


def test_it_refuses_a_key_beyond_the_organizations_cap_and_says_why(world, client_as, settings):
    settings.API_KEYS_PER_ORGANIZATION = 2
    admin = client_as(world.admin)
    for name in ("One", "Two"):
        admin.post(LIST, {"name": name, "scope": "read"})
    page = admin.get(LIST).content.decode()
    assert "2 of 2 live keys" in page and "disabled" in page
    response = admin.post(LIST, {"name": "Three", "scope": "read"})
    assert response.status_code == 200
    assert "already has 2 live API keys, the most it may have" in response.content.decode()
    assert ApiKey.objects.filter(organization=world.org).count() == 2


def test_revoked_keys_do_not_count_against_the_cap(world, other_org, settings):
    settings.API_KEYS_PER_ORGANIZATION = 1
    first = api_key_create(organization=world.org, actor=world.admin, name="One", scope=ApiKeyScope.READ)
    with pytest.raises(ApiKeyLimitReached):
        api_key_create(organization=world.org, actor=world.admin, name="Two", scope=ApiKeyScope.READ)
    # Each organization has its own cap.
    api_key_create(organization=other_org, actor=world.outsider, name="Theirs", scope=ApiKeyScope.READ)
    api_key_revoke(api_key=first.api_key, actor=world.admin)
    api_key_create(organization=world.org, actor=world.admin, name="Two", scope=ApiKeyScope.READ)
    assert ApiKey.objects.filter(organization=world.org, revoked_at__isnull=True).count() == 1
