"""/metrics: Prometheus text behind basic auth, counted from the database."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import override_settings
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Task
from django_q.signing import SignedPackage
from django_q.status import Stat, Status
from django_tenants.utils import schema_context
from prometheus_client.parser import text_string_to_metric_families

from events.models import EmailState
from inbound.models import Delivery, Verdict
from ops.metrics import reason_label, render
from organizations.models import Organization
from tests.factories import EmailFactory
from usage.models import UsageRecord

AUTH = "prom:scrape-secret"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused at once


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@pytest.fixture(autouse=True)
def _metrics_on(settings, db):
    settings.METRICS_AUTH = AUTH
    cache.clear()
    yield
    cache.clear()


def samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return samples_of(response.content.decode())


def samples_of(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_it_is_not_found_when_no_credentials_are_configured(public_client, settings):
    settings.METRICS_AUTH = ""

    assert public_client.get("/metrics").status_code == 404


@pytest.mark.parametrize("header", ["", basic("prom:wrong"), "Basic !!!", "Bearer scrape-secret"])
def test_it_asks_for_basic_auth_without_the_right_credentials(public_client, header):
    response = public_client.get("/metrics", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="metrics"'


def test_it_is_not_served_on_a_workspace_host(client_as, world):
    client = client_as(world.owner)

    assert client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)).status_code == 404


def test_it_counts_mail_queue_and_ai_from_the_database_across_organizations(public_client, org, other_org):
    for verdict, reason in [
        (Verdict.ACCEPTED, ""),
        (Verdict.ACCEPTED, ""),
        (Verdict.DUPLICATE, ""),
        (Verdict.REJECTED, "Sender not allowed by the organization's sender policy"),
        (Verdict.REJECTED, "Message too large: 30000000 bytes (limit 26214400)"),
        (Verdict.REJECTED, "Message too large: 40000000 bytes (limit 26214400)"),
    ]:
        Delivery.objects.create(provider="postmark", verdict=verdict, reason=reason, organization=org)
    Delivery.objects.create(provider="amazon_ses", verdict=Verdict.HELD, organization=other_org)
    EmailFactory(state=EmailState.PROCESSED, project=None)
    EmailFactory(state=EmailState.QUEUED, project=None)
    with schema_context(other_org.schema_name):
        EmailFactory(state=EmailState.FAILED, project=None, state_reason="Extraction failed: refused")
        EmailFactory(state=EmailState.HELD, project=None, state_reason="Plan limit: x")
    UsageRecord.objects.create(organization=org, provider="anthropic", model="m1", cost_usd=Decimal("0.25"))
    UsageRecord.objects.create(organization=other_org, provider="anthropic", model="m1", cost_usd=Decimal("0.50"))

    response = public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    found = samples(response)
    assert found[("projectr_mail_received_total", ())] == 7
    assert found[("projectr_mail_deliveries_total", (("provider", "postmark"), ("verdict", "accepted")))] == 2
    assert found[("projectr_mail_deliveries_total", (("provider", "amazon_ses"), ("verdict", "held")))] == 1
    too_large = (("reason", "Message too large"), ("verdict", "rejected"))
    assert found[("projectr_mail_rejected_total", too_large)] == 2
    for state, n in [("processed", 1), ("queued", 1), ("failed", 1), ("held", 1)]:
        assert found[("projectr_emails", (("state", state),))] == n
    assert found[("projectr_queue_depth", ())] == 1
    assert found[("projectr_ai_calls_total", (("model", "m1"), ("provider", "anthropic")))] == 2
    assert found[("projectr_ai_cost_usd_total", (("model", "m1"), ("provider", "anthropic")))] == 0.75


def test_it_caches_the_database_figures_briefly(public_client, org):
    public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH))
    Delivery.objects.create(provider="postmark", verdict=Verdict.ACCEPTED, organization=org)

    cached = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))
    cache.clear()
    fresh = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))

    assert cached[("projectr_mail_received_total", ())] == 0
    assert fresh[("projectr_mail_received_total", ())] == 1


def test_it_measures_webhook_latency(public_client, org):
    before = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))
    public_client.post("/anymail/postmark/inbound/", data="{}", content_type="application/json")

    after = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))

    key = ("projectr_webhook_duration_seconds_count", (("provider", "postmark"), ("status", "4xx")))
    assert after[key] == before.get(key, 0) + 1


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("Unknown recipient: no organization has this address", "Unknown recipient"),
        ("Malformed payload: KeyError", "Malformed payload"),
        ("", "unknown"),
    ],
)
def test_it_labels_refusals_by_the_reason_before_the_colon(reason, label):
    assert reason_label(reason) == label


def ai_figures(client) -> dict[tuple[str, str], float]:
    found = samples(client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))
    cache.clear()
    return {
        (name, dict(labels)["plan"]): value
        for (name, labels), value in found.items()
        if name in ("projectr_ai_budget_usd", "projectr_ai_cost_last_day_usd")
    }


# Other tests' organizations stay in the test database: these compare with a first reading.
def test_it_reports_the_last_days_ai_spend_beside_each_plans_budgets(public_client, org, other_org):
    before = ai_figures(public_client)
    Organization.objects.filter(pk=other_org.pk).update(plan="professional")  # from starter
    UsageRecord.objects.create(organization=org, provider="anthropic", model="m1", cost_usd=Decimal("1.25"))
    old = UsageRecord.objects.create(organization=org, provider="anthropic", model="m1", cost_usd=Decimal("9"))
    UsageRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    UsageRecord.objects.create(organization=other_org, provider="anthropic", model="m1", cost_usd=Decimal("0.5"))

    after = ai_figures(public_client)

    assert after["projectr_ai_budget_usd", "starter"] == before["projectr_ai_budget_usd", "starter"] - 20
    assert (
        after["projectr_ai_cost_last_day_usd", "starter"] == before["projectr_ai_cost_last_day_usd", "starter"] + 1.25
    )
    assert (
        after["projectr_ai_budget_usd", "professional"]
        == before.get(("projectr_ai_budget_usd", "professional"), 0) + 100
    )
    assert (
        after["projectr_ai_cost_last_day_usd", "professional"]
        == before.get(("projectr_ai_cost_last_day_usd", "professional"), 0) + 0.5
    )


def test_it_counts_an_organizations_custom_budget_and_leaves_out_those_without_one(public_client, org, other_org):
    Organization.objects.filter(plan="enterprise").update(plan="starter")  # other_org is the only one
    before = ai_figures(public_client)
    Organization.objects.filter(pk=org.pk).update(custom_ai_budget_usd=Decimal("35"))  # starter: 20
    Organization.objects.filter(pk=other_org.pk).update(plan="enterprise")  # unlimited: no budget
    UsageRecord.objects.create(organization=other_org, provider="anthropic", model="m1", cost_usd=Decimal("7"))

    after = ai_figures(public_client)

    assert after["projectr_ai_budget_usd", "starter"] == before["projectr_ai_budget_usd", "starter"] + 15 - 20
    assert after["projectr_ai_cost_last_day_usd", "starter"] == before["projectr_ai_cost_last_day_usd", "starter"]
    assert not [plan for _, plan in after if plan == "enterprise"]


def save_heartbeat(cluster_id: str, workers: list[int]) -> None:
    """What a running cluster's Stat(sentinel).save() writes every half second."""
    status = Status(pid=1, cluster_id=cluster_id)
    status.workers = workers
    get_broker().set_stat(Stat.get_key(cluster_id), SignedPackage.dumps(status, True), 3)


def test_it_counts_the_worker_clusters_whose_heartbeat_is_current(public_client):
    idle = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))
    cache.clear()
    save_heartbeat("cluster-a", [11, 12])
    save_heartbeat("cluster-b", [21, 22, 23])

    running = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))

    assert idle[("projectr_worker_clusters", ())] == 0
    assert idle[("projectr_worker_processes", ())] == 0
    assert running[("projectr_worker_clusters", ())] == 2
    assert running[("projectr_worker_processes", ())] == 5


def test_it_reports_how_long_ago_a_background_task_finished(public_client):
    before = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))
    cache.clear()
    finished = timezone.now() - timedelta(minutes=7)
    for stopped in (finished, finished - timedelta(hours=1)):
        Task.objects.create(
            id=uuid.uuid4().hex, name=stopped.isoformat(), func="events.tasks.ai_batches_poll_task",
            started=stopped, stopped=stopped, success=True,
        )  # fmt: skip

    after = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))

    assert ("projectr_worker_last_task_age_seconds", ()) not in before
    assert 7 * 60 <= after[("projectr_worker_last_task_age_seconds", ())] < 8 * 60


def test_it_leaves_redis_out_when_there_is_none(public_client, settings):
    settings.REDIS_URL = ""

    found = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))

    assert not [key for key in found if key[0] == "projectr_redis_up"]


def test_it_reports_redis_up_when_it_answers(public_client, settings):
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set: no Redis answered on loopback (.ci/run sets it when one does)")
    settings.REDIS_URL = TEST_REDIS_URL

    found = samples(public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH)))

    assert found[("projectr_redis_up", ())] == 1


def test_it_still_answers_when_redis_holding_the_cache_is_down(public_client, settings):
    settings.REDIS_URL = DEAD_REDIS
    dead_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}

    with override_settings(CACHES=dead_cache):
        response = public_client.get("/metrics", HTTP_AUTHORIZATION=basic(AUTH))

    assert response.status_code == 200
    found = samples(response)
    assert found[("projectr_redis_up", ())] == 0
    assert found[("projectr_database_up", ())] == 1
    assert found[("projectr_queue_depth", ())] == 0
    # The heartbeats live in the cache (ORM broker) or in Redis: nobody can tell, so no figure.
    assert ("projectr_worker_clusters", ()) not in found


def test_it_reports_the_database_down_and_leaves_out_what_it_counts(settings):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("server closed the connection")):
        found = samples_of(render().decode())

    assert found[("projectr_database_up", ())] == 0
    assert not [name for name, _ in found if name.startswith(("projectr_mail", "projectr_emails", "projectr_queue"))]


def test_it_reads_every_figure_in_a_fixed_number_of_queries(org, other_org, settings, django_assert_num_queries):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    EmailFactory(state=EmailState.QUEUED, project=None)

    # Deliveries, refusals, AI calls, the last task, the budgets; the schemas, then one
    # UNION ALL over all of them (ops.selectors): however many organizations there are.
    with django_assert_num_queries(7):
        render()
    with django_assert_num_queries(0):  # cached for METRICS_CACHE_SECONDS
        render()
