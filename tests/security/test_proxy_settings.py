"""Behind a proxy the client IP comes from X-Forwarded-For, so start-up needs to know how many
proxies append to it; otherwise every visitor would share the proxy's rate limits."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests.test_settings_startup import import_settings

PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ANYMAIL_WEBHOOK_SECRET": "a:b"}


@pytest.mark.parametrize("count", [None, "0"])
def test_behind_a_proxy_without_a_proxy_count_it_refuses_to_start(count):
    env = {**PRODUCTION, "BEHIND_PROXY": "true"}
    if count is not None:
        env["TRUSTED_PROXY_COUNT"] = count
    result = import_settings(**env)
    assert result.returncode != 0
    assert "BEHIND_PROXY=true needs TRUSTED_PROXY_COUNT" in result.stderr


def test_behind_a_proxy_with_a_proxy_count_it_starts():
    result = import_settings(**PRODUCTION, BEHIND_PROXY="true", TRUSTED_PROXY_COUNT="1")
    assert result.returncode == 0, result.stderr


def test_compose_sets_a_proxy_count_beside_behind_proxy():
    from tests.ops.test_deploy_files import compose_config

    environment = compose_config()["services"]["web"]["environment"]
    assert environment["BEHIND_PROXY"] == "true"
    assert int(environment["TRUSTED_PROXY_COUNT"]) >= 1


def test_with_one_proxy_each_visitor_has_their_own_limit(world, settings):
    """Two visitors behind the same proxy: one's wrong links do not limit the other."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.TOKEN_RATE_LIMIT = 2
    cache.clear()
    proxy = {"HTTP_HOST": world.org.host, "REMOTE_ADDR": "10.0.0.2"}
    prober = Client(**proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
    statuses = [prober.get(f"/invite/guess-{n}/").status_code for n in range(3)]
    assert statuses[-1] == 429
    # A visitor cannot pick their address by writing a header in front of the proxy's entry.
    spoofed = Client(**proxy, HTTP_X_FORWARDED_FOR="192.0.2.50, 198.51.100.1")
    assert spoofed.get("/invite/guess-x/").status_code == 429
    neighbour = Client(**proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert neighbour.get("/invite/guess-y/").status_code == 404
    cache.clear()
