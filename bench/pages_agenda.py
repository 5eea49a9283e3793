"""The agenda in bench/pages.py: /agenda/ at 10,000 and 100,000 events (BENCH_AGENDA_EVENTS),
against the admin changelist of the same events in the same workspace and run.

One workspace per size: 50 open projects whose events are spread evenly over the year before
and the year after today (so the agenda has overdue items and a full fortnight ahead), every
kind in turn, a third untimed, one in five done, one in eleven a suggestion, one in thirteen
cancelled, half from an email, a quarter naming the owner.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

AGENDA_EVENTS = [int(n) for n in os.environ.get("BENCH_AGENDA_EVENTS", "10000,100000").split(",")]
PROJECTS = 50


def bench_workspace(slug: str) -> Any:
    """The Enterprise workspace `slug`, made on first use (page benchmarks seed one per size)."""
    from organizations.models import Organization
    from organizations.services import organization_create

    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        organization = organization_create(
            name=slug, slug=slug, owner_email="owner@bench.example", send_invitation=False, plan="enterprise"
        ).organization
    return organization


def seed_agenda(slug: str, events: int) -> Any:
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from events.models import Email, EmailState, Event, EventKind, EventStatus
    from projects.models import Project

    organization = bench_workspace(slug)
    now = timezone.now()
    today = timezone.localdate()
    kinds = list(EventKind)
    with schema_context(organization.schema_name):
        if Event.objects.exists():
            return organization
        projects = Project.objects.bulk_create(
            Project(name=f"Project {n}", slug=f"project-{n}", client_name=f"Client {n}", last_activity_at=now)
            for n in range(PROJECTS)
        )
        emails = Email.objects.bulk_create(
            Email(
                message_id=f"<agenda-{n}@client.example>",
                provider="eml",
                from_address=f"pm{n}@client.example",
                subject=f"Project {n}: the plan",
                received_at=now,
                text="Hello,\n\nThe site meeting is on Friday at 10am.\n\nPat",
                project=project,
                state=EmailState.PROCESSED,
                state_changed_at=now,
            )
            for n, project in enumerate(projects)
        )
        Event.objects.bulk_create(
            (
                Event(
                    project=projects[n % PROJECTS],
                    email=emails[n % PROJECTS] if n % 2 else None,
                    kind=kinds[n % len(kinds)],
                    title=f"Site meeting {n}",
                    date=today + timedelta(days=(n * 7919) % 731 - 365),
                    time=None if n % 3 == 0 else time(8 + n % 10, 0),
                    people=["owner@bench.example"] if n % 4 == 0 else ["Pat"],
                    evidence="The site meeting is on Friday at 10am.",
                    confidence=0.9,
                    provider="rules",
                    done=n % 5 == 0,
                    suggested=n % 11 == 0,
                    status=EventStatus.CANCELLED if n % 13 == 0 else EventStatus.ACTIVE,
                )
                for n in range(events)
            ),
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            # As autovacuum would have by then: without statistics the planner takes 50 projects for 1.
            cursor.execute("ANALYZE projects_project")
            cursor.execute("ANALYZE events_email")
            cursor.execute("ANALYZE events_event")
    return organization


Stats = tuple[float, float, int, int]


def agenda_section(owner: Any, measure: Callable[[Any, str, str], tuple[Stats, Stats]], runs: int) -> None:
    from django.db import connection
    from django.test import Client

    from organizations.models import Membership, Role

    rows = []
    for events in AGENDA_EVENTS:
        connection.set_schema_to_public()
        organization = seed_agenda(f"agenda{events // 1000}k", events)
        connection.set_schema_to_public()
        Membership.objects.get_or_create(user=owner, organization=organization, defaults={"role": Role.OWNER})
        client = Client(HTTP_HOST=organization.host)
        client.force_login(owner)
        items = client.get("/agenda/").content.decode().count('class="agenda-item ')
        ours, admin = measure(client, "/agenda/", "/bench-admin/events/event/")
        mine, _ = measure(client, "/agenda/?person=mine", "/bench-admin/events/event/")
        rows.append((events, items, ours, admin, mine))
        connection.set_schema_to_public()
    print("\n### Agenda (bench/pages.py)\n")
    print(
        f"A workspace per size: {PROJECTS} open projects, events spread evenly over the year before and after "
        "today (every kind in turn, a third untimed, one in five done, one in eleven a suggestion, one in thirteen "
        "cancelled, half from an email). Ours: /agenda/ (the 100 most recent overdue items and at most 300 from "
        "today to the end of next week, grouped by day) and /agenda/?person=mine. Baseline: the admin changelist "
        f"of the same events (100 rows a page, its COUNT), same client and middleware, {runs} requests after "
        "3 warm-ups, in turn.\n"
    )
    print(
        "| events | items shown | p50 ms | p95 ms | admin p50 ms | **ours / admin** | 'mine' p50 ms | queries | "
        "admin queries |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for events, items, (p50, p95, queries, _), (a50, _, aqueries, _), (m50, _, _, _) in rows:
        print(
            f"| {events:,} | {items} | {1000 * p50:.1f} | {1000 * p95:.1f} | {1000 * a50:.1f} | "
            f"**{p50 / a50:.2f}×** | {1000 * m50:.1f} | {queries} | {aqueries} |"
        )
    counts = {queries for _, _, (_, _, queries, _), _, _ in rows}
    print(f"\nThe same number of queries at every size: {'✓' if len(counts) == 1 else '✗ ' + str(sorted(counts))}.")
