"""Every workspace URL that exists, for every kind of visitor.

The URL list is read from the tenant URLconf, so a view added later is covered without
touching this file: non-members get 404, anonymous visitors are sent to sign in (or 404),
viewers can read but every POST they send is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Reached without a workspace session by design: sign-in pages, invitation and hand-off
# links (their own tokens are the credential), calendar feeds (secret token) and health.
# The JSON API ignores sessions and answers 401/403 JSON to bearer keys; tests/api/test_auth_matrix.py
# walks every API operation for no key, another organization's key, revoked, read and write keys.
OPEN_PREFIXES = ("accounts/", "invite/", "handoff/", "feeds/", "healthz", "api/")


def _join(prefix: str, pattern: str) -> str:
    return prefix + pattern


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, _join(prefix, route))
        else:
            yield _join(prefix, route)


def _fill(route: str) -> str:
    """A concrete path for a route, with ids that exist nowhere."""
    converters = {
        "<uuid:": str(uuid.uuid4()),
        "<int:": "987654",
        "<slug:": "no-such-thing",
        "<str:": "no-such-thing",
        "<path:": "no/such/thing",
    }
    path = route
    while "<" in path:
        start = path.index("<")
        end = path.index(">", start)
        token = path[start : end + 1]
        value = next((v for k, v in converters.items() if token.startswith(k)), "no-such-thing")
        path = path.replace(token, value, 1)
    return "/" + path.lstrip("^").rstrip("$")


def workspace_paths() -> list[str]:
    routes = sorted(set(_walk(get_resolver("config.urls_tenant").url_patterns)))
    return [_fill(r) for r in routes if not r.startswith(OPEN_PREFIXES) and "(?P" not in r]


PATHS = workspace_paths()


def test_the_matrix_covers_the_main_sections():
    for section in ("/projects/", "/inbox/", "/usage/", "/billing/", "/team/", "/settings/"):
        assert section in PATHS


@pytest.mark.parametrize("path", PATHS)
def test_it_hides_every_workspace_url_from_non_members(path, world, client_as):
    client = client_as(world.outsider)
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


@pytest.mark.parametrize("path", PATHS)
def test_it_asks_anonymous_visitors_to_sign_in(path, world, workspace_client):
    response = workspace_client.get(path)
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("path", PATHS)
def test_it_refuses_every_post_from_a_viewer(path, world, client_as):
    assert client_as(world.viewer).post(path).status_code == 403


@pytest.mark.parametrize("path", PATHS)
def test_it_never_errors_for_any_member_role(path, world, client_as):
    for role in ("owner", "admin", "member", "viewer"):
        status = client_as(world.user(role)).get(path).status_code
        assert status in (200, 302, 403, 404, 405), (role, path, status)
