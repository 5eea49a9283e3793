"""The per-organization webhook limit counts in PostgreSQL: on without Redis, one statement a delivery."""

from __future__ import annotations

import json

import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from organizations.models import Organization, SenderPolicy
from tests.inbound.conftest import AUTH, POSTMARK_URL, make_message, postmark_payload


def deliver(slug: str, n: int) -> Client:
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=AUTH)
    raw = make_message(to=f"{slug}@in.localhost", message_id=f"<limit-{n}@client.test>")
    payload = postmark_payload(raw, event_id=f"limit-{n}", recipient=f"{slug}@in.localhost")
    return client.post(POSTMARK_URL, data=json.dumps(payload), content_type="application/json")


def test_the_limit_is_on_by_default_without_redis():
    assert not settings.REDIS_URL
    assert settings.INBOUND_RATE_LIMIT > 0


def test_a_delivery_counts_with_one_statement_and_no_cache_query(org, public):
    Organization.objects.filter(pk=org.pk).update(sender_policy=SenderPolicy.ANYONE)
    deliver(org.slug, 0)
    with CaptureQueriesContext(connection) as queries:
        assert deliver(org.slug, 1).status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if "fairness_ratecount" in s]) == 1
    assert not [s for s in sql if "projectr_cache" in s]


def test_the_limited_answer_says_when_the_window_ends(org, public, settings):
    Organization.objects.filter(pk=org.pk).update(sender_policy=SenderPolicy.ANYONE)
    settings.INBOUND_RATE_LIMIT, settings.INBOUND_RATE_LIMIT_WINDOW = 1, 60
    with time_machine.travel(1_000_050, tick=False):  # 30 s into a window of 60
        assert deliver(org.slug, 0).status_code == 200
        refused = deliver(org.slug, 1)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
