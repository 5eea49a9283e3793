from __future__ import annotations

from django.core.cache import cache
from django.test import Client

from tests.conftest import make_user

PASSWORD = "a-long-and-unusual-passphrase"


def test_failed_sign_ins_count_across_every_host(world, public, other_org):
    cache.clear()
    make_user("target@testorg.test", password=PASSWORD)
    hosts = [world.org.host, other_org.host, "localhost"]
    for attempt in range(5):
        client = Client(HTTP_HOST=hosts[attempt % len(hosts)])
        client.post("/accounts/login/", {"login": "target@testorg.test", "password": f"wrong-{attempt}"})
    # The right password is refused now, on a host not used for most of the attempts.
    response = Client(HTTP_HOST="localhost").post(
        "/accounts/login/", {"login": "target@testorg.test", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    cache.clear()


def test_the_rate_limit_cache_is_shared_by_all_processes():
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    assert backend in (
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.redis.RedisCache",
    )
