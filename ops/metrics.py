"""Prometheus metrics.

Gunicorn runs several processes and the workers run elsewhere, so counters kept in one
process's memory would each tell part of the story. Everything countable is therefore read
from the database (the Delivery log, UsageRecord, the emails' states across schemas) and cached
for METRICS_CACHE_SECONDS. The one exception is the webhook latency histogram, which only
the web processes see: with PROMETHEUS_MULTIPROC_DIR set (see docs/deploy.md) prometheus_client
shares it between gunicorn's processes through files; without it each process reports its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Sum
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ops.selectors import QueueFigures, queue_figures

CACHE_KEY = "ops:metrics:figures"
QUEUE_CACHE_KEY = "ops:queue:figures"
# Rejected/invalid reasons are free text; the part before the first ":" is a bounded label.
REASON_LABEL_MAX = 60

WEBHOOK_LATENCY = Histogram(
    "projectr_webhook_duration_seconds",
    "Time to answer an inbound webhook, by provider and status class.",
    ["provider", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=None,
)


def webhook_observe(path: str, status: int, seconds: float) -> None:
    parts = [part for part in path.split("/") if part]
    provider = parts[1] if len(parts) > 1 and parts[1] in {"postmark", "amazon_ses"} else "other"
    WEBHOOK_LATENCY.labels(provider=provider, status=f"{status // 100}xx").observe(seconds)


def reason_label(reason: str) -> str:
    return (reason.split(":", 1)[0].strip() or "unknown")[:REASON_LABEL_MAX]


def cached_queue_figures() -> QueueFigures:
    figures = cache.get(QUEUE_CACHE_KEY)
    if figures is None:
        figures = queue_figures()
        cache.set(QUEUE_CACHE_KEY, figures, settings.METRICS_CACHE_SECONDS)
    return figures  # type: ignore[no-any-return]


def database_figures() -> dict[str, Any]:
    """The counted figures (public schema), cached briefly: every scrape of every process shares them."""
    figures = cache.get(CACHE_KEY)
    if figures is not None:
        return figures  # type: ignore[no-any-return]
    from inbound.models import Delivery, Verdict
    from usage.models import UsageRecord

    deliveries = list(Delivery.objects.values("provider", "verdict").annotate(n=Count("pk")).order_by())
    refused: dict[tuple[str, str], int] = {}
    for row in (
        Delivery.objects.filter(verdict__in=[Verdict.REJECTED, Verdict.INVALID])
        .values("verdict", "reason")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        key = (row["verdict"], reason_label(row["reason"]))
        refused[key] = refused.get(key, 0) + row["n"]
    ai = list(UsageRecord.objects.values("provider", "model").annotate(n=Count("pk"), cost=Sum("cost_usd")).order_by())
    figures = {
        "deliveries": [(row["provider"], row["verdict"], row["n"]) for row in deliveries],
        "refused": [(verdict, reason, n) for (verdict, reason), n in sorted(refused.items())],
        "ai": [(row["provider"], row["model"], row["n"], float(row["cost"] or 0)) for row in ai],
    }
    cache.set(CACHE_KEY, figures, settings.METRICS_CACHE_SECONDS)
    return figures


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        figures = database_figures()
        queue = cached_queue_figures()
        deliveries = CounterMetricFamily(
            "projectr_mail_deliveries",
            "Inbound webhook deliveries by provider and verdict (accepted, duplicate, rejected, ignored, held, invalid).",
            labels=["provider", "verdict"],
        )
        received = CounterMetricFamily("projectr_mail_received", "Inbound deliveries recorded, all verdicts.")
        total = 0
        for provider, verdict, n in figures["deliveries"]:
            deliveries.add_metric([provider, verdict], n)
            total += n
        received.add_metric([], total)
        refused = CounterMetricFamily(
            "projectr_mail_rejected",
            "Deliveries refused (rejected or invalid), by verdict and reason.",
            labels=["verdict", "reason"],
        )
        for verdict, reason, n in figures["refused"]:
            refused.add_metric([verdict, reason], n)
        emails = GaugeMetricFamily(
            "projectr_emails",
            "Stored emails by state across organizations (processed, failed, held, queued, processing, ignored).",
            labels=["state"],
        )
        for state, n in sorted(queue.states.items()):
            emails.add_metric([state], n)
        depth = GaugeMetricFamily("projectr_queue_depth", "Emails queued or processing, all organizations.")
        depth.add_metric([], queue.depth)
        age = GaugeMetricFamily("projectr_queue_oldest_age_seconds", "Age of the oldest queued email (0 when none).")
        age.add_metric([], queue.oldest_age_seconds())
        calls = CounterMetricFamily(
            "projectr_ai_calls", "AI usage records (one per billed call).", labels=["provider", "model"]
        )
        cost = CounterMetricFamily("projectr_ai_cost_usd", "AI cost in USD.", labels=["provider", "model"])
        for provider, model, n, usd in figures["ai"]:
            calls.add_metric([provider, model], n)
            cost.add_metric([provider, model], usd)
        yield from (deliveries, received, refused, emails, depth, age, calls, cost)


def render() -> bytes:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(WEBHOOK_LATENCY)
    return generate_latest(registry)
