"""What the soak database holds afterwards, as JSON on stdout (run with the soak's environment).

`python soak/checks.py SLUG` prints the figures the driver compares with what it sent.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def collect(slug: str) -> dict[str, Any]:
    from django.db.models import Count, Sum
    from django_tenants.utils import schema_context

    from events.models import Email, EmailState, Event, EventHistory
    from inbound.models import Delivery
    from organizations.models import Organization
    from usage.models import UsageRecord

    organization = Organization.objects.get(slug=slug)
    with schema_context(organization.schema_name):
        states = dict(Email.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
        message_ids = list(Email.objects.values_list("message_id", flat=True))
        failed_reasons: dict[str, int] = {}
        for reason in Email.objects.filter(state=EmailState.FAILED).values_list("state_reason", flat=True):
            key = (reason or "").split("(")[0].strip()[:80]
            failed_reasons[key] = failed_reasons.get(key, 0) + 1
        created_twice = (
            EventHistory.objects.filter(action="created", email__isnull=False)
            .values("email_id")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
        )
        same_event_twice = (
            Event.objects.filter(email__isnull=False)
            .values("email_id", "kind", "evidence")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
        )
        events = Event.objects.count()
        emails_with_events = Event.objects.filter(email__isnull=False).values("email_id").distinct().count()
        attempts = dict(Email.objects.values_list("attempts").annotate(n=Count("pk")).values_list("attempts", "n"))
    deliveries = dict(
        Delivery.objects.filter(organization=organization)
        .values_list("verdict")
        .annotate(n=Count("pk"))
        .values_list("verdict", "n")
    )
    usage = UsageRecord.objects.filter(organization=organization).aggregate(calls=Count("pk"), cost=Sum("cost_usd"))
    return {
        "emails": len(message_ids),
        "distinct_message_ids": len(set(message_ids)),
        "message_ids": sorted(message_ids),
        "states": states,
        "failed_without_reason": sum(n for reason, n in failed_reasons.items() if not reason),
        "failed_reasons": failed_reasons,
        "emails_with_events_created_twice": created_twice,
        "duplicate_events": same_event_twice,
        "events": events,
        "emails_with_events": emails_with_events,
        "attempts": {str(k): v for k, v in attempts.items()},
        "deliveries": deliveries,
        "ai_calls": usage["calls"] or 0,
        "ai_cost_usd": str(usage["cost"] or 0),
    }


def pending(slug: str) -> int:
    from django_tenants.utils import schema_context

    from events.models import Email, EmailState
    from organizations.models import Organization

    organization = Organization.objects.get(slug=slug)
    with schema_context(organization.schema_name):
        return Email.objects.filter(state__in=[EmailState.QUEUED, EmailState.PROCESSING]).count()


def waiting(slug: str) -> dict[str, int]:
    """What the mail still waiting waits for: its turn (due, leased or later, none), its worker,
    the broker's tasks (free or held by a cluster) and the schedules that are overdue."""
    from django.db.models import Q
    from django.utils import timezone
    from django_q.models import OrmQ, Schedule
    from django_tenants.utils import schema_context

    from events.models import Email, EmailState
    from fairness.models import Turn
    from organizations.models import Organization

    organization = Organization.objects.get(slug=slug)
    now = timezone.now()
    turns = dict(Turn.objects.filter(schema_name=organization.schema_name).values_list("email_id", "available_at"))
    with schema_context(organization.schema_name):
        rows = list(
            Email.objects.filter(state__in=[EmailState.QUEUED, EmailState.PROCESSING]).values_list("pk", "state")
        )
    counts: dict[str, int] = {}
    for pk, state in rows:
        turn = turns.get(pk)
        where = "no turn" if turn is None else ("turn due" if turn <= now else "turn later")
        counts[f"{state}, {where}"] = counts.get(f"{state}, {where}", 0) + 1
    counts["tasks free"] = OrmQ.objects.filter(lock__lte=now).count()
    counts["tasks held"] = OrmQ.objects.filter(lock__gt=now).count()
    counts["schedules overdue"] = Schedule.objects.filter(Q(next_run__lt=now), ~Q(repeats=0)).count()
    return counts


def latencies(slug: str) -> list[list[float | None]]:
    """Each email's stored and processed times (epoch seconds; None while not processed)."""
    from django.db.models import Min
    from django_tenants.utils import schema_context

    from events.models import Email
    from organizations.models import Organization

    organization = Organization.objects.get(slug=slug)
    with schema_context(organization.schema_name):
        rows = Email.objects.annotate(stored=Min("logs__at")).values_list("stored", "processed_at")
        return [[stored.timestamp(), processed.timestamp() if processed else None] for stored, processed in rows]


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if sys.argv[1] == "pending":
        print(
            json.dumps(
                {"pending": sum(pending(slug) for slug in sys.argv[2:]), "why": [waiting(s) for s in sys.argv[2:]]}
            )
        )
    elif sys.argv[1] == "latencies":
        print(json.dumps({"latencies": latencies(sys.argv[2])}))
    else:
        print(json.dumps(collect(sys.argv[2]), default=str))
