"""Prometheus metrics.

Gunicorn runs several processes and the workers run elsewhere, so counters kept in one
process's memory would each tell part of the story. Everything countable is therefore read
from the database (the Delivery log, UsageRecord, the emails' states across schemas) and cached
for METRICS_CACHE_SECONDS. The one exception is the webhook latency histogram, which only
the web processes see: with PROMETHEUS_MULTIPROC_DIR set (see docs/deploy.md) prometheus_client
shares it between gunicorn's processes through files; without it each process reports its own.

The alert rules (ops/prometheus/alerts.yml) need to hear about an outage, so a part that does
not answer (PostgreSQL, Redis, the cache) is reported as down and its figures are left out,
rather than failing the scrape.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Count, DecimalField, Max, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.models import Task
from django_q.status import Stat
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from billing.models import Plan
from ops.selectors import QueueFigures, queue_figures
from organizations.models import Organization
from usage.models import UsageRecord

logger = logging.getLogger(__name__)

CACHE_KEY = "ops:metrics:figures"
QUEUE_CACHE_KEY = "ops:queue:figures"
WORKERS_CACHE_KEY = "ops:metrics:workers"
# The AI spend alert compares the last day's spend, times this, with the monthly budgets.
AI_SPEND_WINDOW = timedelta(days=1)
REDIS_TIMEOUT_SECONDS = 2.0
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


def _cache_get(key: str) -> Any:
    # With REDIS_URL the cache is Redis: while it is down the figures are read afresh (and
    # projectr_redis_up says why) instead of failing the scrape or the health check.
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Metrics: the cache does not answer", exc_info=True)
        return None


def _cache_set(key: str, value: Any) -> None:
    try:
        cache.set(key, value, settings.METRICS_CACHE_SECONDS)
    except Exception:
        logger.warning("Metrics: the cache does not answer", exc_info=True)


def cached_queue_figures() -> QueueFigures:
    figures = _cache_get(QUEUE_CACHE_KEY)
    if figures is None:
        figures = queue_figures()
        _cache_set(QUEUE_CACHE_KEY, figures)
    return figures  # type: ignore[no-any-return]


def ai_budget_rows() -> list[tuple[str, float, float]]:
    """(plan, the monthly AI budgets summed, their AI cost over AI_SPEND_WINDOW) for the
    organizations that have a budget (a custom one, else their plan's), one row per plan."""
    plan_budget = Plan.objects.filter(code=OuterRef("plan")).values("ai_budget_usd")[:1]
    spent = (
        UsageRecord.objects.filter(organization=OuterRef("pk"), created_at__gte=timezone.now() - AI_SPEND_WINDOW)
        .order_by()
        .values("organization")
        .annotate(total=Sum("cost_usd"))
        .values("total")
    )
    rows = (
        Organization.objects.filter(is_template=False, is_active=True)
        .exclude(schema_name="public")
        .annotate(
            budget=Coalesce("custom_ai_budget_usd", Subquery(plan_budget)),
            spent=Coalesce(Subquery(spent), Value(0), output_field=DecimalField()),
        )
        .filter(budget__isnull=False)
        .values("plan")
        .annotate(budget_total=Sum("budget"), spent_total=Sum("spent"))
        .order_by("plan")
    )
    return [(row["plan"], float(row["budget_total"]), float(row["spent_total"])) for row in rows]


def database_figures() -> dict[str, Any]:
    """The counted figures (public schema), cached briefly: every scrape of every process shares them."""
    figures = _cache_get(CACHE_KEY)
    if figures is not None:
        return figures  # type: ignore[no-any-return]
    from inbound.models import Delivery, Verdict

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
    # The pipeline's schedules run a task every minute, so while the workers take tasks this
    # stays recent even when no mail arrives (SCHEDULES in events.tasks).
    last_task = Task.objects.aggregate(last=Max("stopped"))["last"]
    figures = {
        "deliveries": [(row["provider"], row["verdict"], row["n"]) for row in deliveries],
        "refused": [(verdict, reason, n) for (verdict, reason), n in sorted(refused.items())],
        "ai": [(row["provider"], row["model"], row["n"], float(row["cost"] or 0)) for row in ai],
        "ai_budgets": ai_budget_rows(),
        "last_task_finished": last_task.timestamp() if last_task else None,
    }
    _cache_set(CACHE_KEY, figures)
    return figures


def worker_figures() -> tuple[int, int] | None:
    """(clusters, worker processes) of the django-q2 clusters whose heartbeat is current.

    Each cluster saves its status through the broker every half second and it expires after
    three (django_q.status.Stat), so a killed or hung cluster drops out within seconds. None
    when the broker cannot be asked (projectr_redis_up or projectr_database_up says why)."""
    figures = _cache_get(WORKERS_CACHE_KEY)
    if figures is not None:
        return figures  # type: ignore[no-any-return]
    try:
        stats = Stat.get_all()
    except Exception:
        logger.warning("Metrics: the django-q2 cluster heartbeats could not be read", exc_info=True)
        return None
    figures = (len(stats), sum(len(stat.workers) for stat in stats))
    _cache_set(WORKERS_CACHE_KEY, figures)
    return figures


def redis_up() -> bool:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


DATABASE_UP_HELP = "1 when PostgreSQL answered this scrape's queries (the figures come from it)."


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], value)
    return gauge


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        try:
            figures = database_figures()
            queue = cached_queue_figures()
        except DatabaseError:
            logger.warning("Metrics: the database does not answer", exc_info=True)
            yield _gauge("projectr_database_up", DATABASE_UP_HELP, 0)
            return
        yield _gauge("projectr_database_up", DATABASE_UP_HELP, 1)
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
        budget = GaugeMetricFamily(
            "projectr_ai_budget_usd",
            "Monthly AI budgets of the active organizations that have one, summed per plan.",
            labels=["plan"],
        )
        spent = GaugeMetricFamily(
            "projectr_ai_cost_last_day_usd",
            "AI cost of the last 24 hours of the organizations counted in projectr_ai_budget_usd, per plan.",
            labels=["plan"],
        )
        for plan, budget_usd, spent_usd in figures["ai_budgets"]:
            budget.add_metric([plan], budget_usd)
            spent.add_metric([plan], spent_usd)
        yield from (deliveries, received, refused, emails, depth, age, calls, cost, budget, spent)
        if figures["last_task_finished"] is not None:
            yield _gauge(
                "projectr_worker_last_task_age_seconds",
                "Seconds since a django-q2 task last finished (a schedule runs one every minute).",
                max(0.0, timezone.now().timestamp() - figures["last_task_finished"]),
            )


class WorkerCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        figures = worker_figures()
        if figures is None:
            return
        clusters, processes = figures
        yield _gauge("projectr_worker_clusters", "django-q2 clusters whose heartbeat is current.", clusters)
        yield _gauge("projectr_worker_processes", "Worker processes of those clusters.", processes)


class RedisCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        if settings.REDIS_URL:
            yield _gauge(
                "projectr_redis_up", "1 when Redis (REDIS_URL: broker and cache) answers PING.", float(redis_up())
            )


def render() -> bytes:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    registry.register(WorkerCollector())
    registry.register(RedisCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(WEBHOOK_LATENCY)
    return generate_latest(registry)
