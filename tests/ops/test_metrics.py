"""/metrics: Prometheus text behind basic auth, counted from the database."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context
from prometheus_client.parser import text_string_to_metric_families

from events.models import EmailState
from inbound.models import Delivery, Verdict
from ops.metrics import reason_label
from tests.factories import EmailFactory
from usage.models import UsageRecord

AUTH = "prom:scrape-secret"


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@pytest.fixture(autouse=True)
def _metrics_on(settings, db):
    settings.METRICS_AUTH = AUTH
    cache.clear()
    yield
    cache.clear()


def samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = response.content.decode()
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
