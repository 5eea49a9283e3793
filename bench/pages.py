"""Pages: server time and queries of the dashboard's heaviest pages at 10 and at 10,000+ rows,
against the Django admin changelist of the same table (bench/pages_urls.py) as the baseline.

Two workspaces on one database (bench_pages): "bench" with 1,000 projects, a timeline of 10,000
events, 20,000 emails in the inbox and a year of usage ledger rows; "small" with 10 of each.
Requests go through the Django test client in one process (the full middleware stack, DEBUG
off), logged in as the workspace owner (also staff, for the admin). Server time per request:
p50 and p95 of BENCH_PAGES_RUNS requests after 3 warm-ups, ours and the admin's in turn.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from common import percentile
from pages_agenda import agenda_section, bench_workspace
from perfdb import ORG_SLUG, prepare, production_env

DATABASE = "bench_pages"
RUNS = int(os.environ.get("BENCH_PAGES_RUNS", "40"))
SIZES = {"projects": 1_000, "events": 10_000, "emails": 20_000, "usage_days": 365, "usage_per_day": 40}
SMALL = {"projects": 10, "events": 10, "emails": 10, "usage_days": 10, "usage_per_day": 1}
# Search: one workspace per size, its emails only (and 10 projects to file them in).
SEARCH_EMAILS = [int(n) for n in os.environ.get("BENCH_SEARCH_EMAILS", "10000,100000").split(",")]
# "mapbox" is in one email in 1,000 (a rare word: what search is for); "meeting" in every one.
SEARCH_WORDS = ("mapbox", "meeting")
_FILLER = [
    "kitchen",
    "refit",
    "tiles",
    "grout",
    "cabinets",
    "worktop",
    "delivery",
    "installation",
    "plumber",
    "electrician",
    "invoice",
    "quote",
    "drawings",
    "survey",
    "permit",
    "schedule",
    "handover",
    "snagging",
    "paint",
    "flooring",
    "lighting",
    "budget",
]


def seed(slug: str, sizes: dict[str, int]) -> dict[str, Any]:
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from events.models import Email, EmailState, Event, EventKind
    from organizations.models import Organization
    from projects.models import Project
    from usage.models import UsageRecord

    organization = Organization.objects.get(slug=slug)
    now = timezone.now()
    with schema_context(organization.schema_name):
        if Project.objects.exists():
            return {"organization": organization, "project": Project.objects.order_by("pk").first()}
        projects = Project.objects.bulk_create(
            Project(
                name=f"Project {n}",
                slug=f"project-{n}",
                client_name=f"Client {n % 50}",
                client_email=f"client{n}@client.example",
                last_activity_at=now - timedelta(hours=n),
            )
            for n in range(sizes["projects"])
        )
        timeline = projects[0]
        Event.objects.bulk_create(
            (
                Event(
                    project=timeline,
                    kind=list(EventKind)[n % len(EventKind)],
                    title=f"Site meeting {n}",
                    date=(now - timedelta(days=n % 720)).date(),
                    evidence="The site meeting is on Friday at 10am.",
                    confidence=0.9,
                    provider="rules",
                )
                for n in range(sizes["events"])
            ),
            batch_size=2000,
        )
        states = [EmailState.PROCESSED] * 8 + [EmailState.HELD, EmailState.FAILED]
        Email.objects.bulk_create(
            (
                Email(
                    message_id=f"<seed-{n}@client.example>",
                    provider="eml",
                    from_address=f"pm{n % 200}@client.example",
                    from_name=f"Pat {n % 200}",
                    to=[f"{slug}@in.localhost"],
                    subject=f"Kitchen refit, update {n}",
                    date=now - timedelta(minutes=10 * n),
                    received_at=now - timedelta(minutes=10 * n),
                    text="Hello,\n\nThe site meeting is on Friday at 10am.\nPlease send the invoice.\n\nPat",
                    project=projects[n % len(projects)],
                    state=states[n % len(states)],
                    state_changed_at=now,
                )
                for n in range(sizes["emails"])
            ),
            batch_size=2000,
        )
    UsageRecord.objects.bulk_create(
        (
            UsageRecord(
                organization=organization,
                provider="anthropic",
                model="claude-haiku-5-5",
                input_tokens=900,
                output_tokens=250,
                cache_read_tokens=2100,
                cost_usd=Decimal("0.00026"),
            )
            for _ in range(sizes["usage_days"] * sizes["usage_per_day"])
        ),
        batch_size=5000,
    )
    # A year of ledger: spread the rows over the days (created_at is auto_now_add).
    ids = list(UsageRecord.objects.filter(organization=organization).order_by("pk").values_list("pk", flat=True))
    per_day = sizes["usage_per_day"]
    for day in range(sizes["usage_days"]):
        UsageRecord.objects.filter(pk__in=ids[day * per_day : (day + 1) * per_day]).update(
            created_at=now - timedelta(days=day, minutes=7)
        )
    return {"organization": organization, "project": timeline}


def seed_search(slug: str, emails: int) -> Any:
    """`emails` emails of ~60 words each, every one with "meeting", one in 1,000 with "mapbox"."""
    import random

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from events.models import Email, EmailState
    from projects.models import Project

    organization = bench_workspace(slug)
    now = timezone.now()
    words = random.Random(slug)
    with schema_context(organization.schema_name):
        if Email.objects.exists():
            return organization
        projects = Project.objects.bulk_create(
            Project(name=f"Project {n}", slug=f"project-{n}", client_name=f"Client {n}") for n in range(10)
        )

        def text(n: int) -> str:
            body = " ".join(words.choice(_FILLER) for _ in range(55))
            rare = " We use Mapbox for the map." if n % 1000 == 500 else ""
            return f"Hello,\n\n{body}.{rare}\nThe site meeting is on Friday at 10am.\n\nPat {n % 200}"

        Email.objects.bulk_create(
            (
                Email(
                    message_id=f"<search-{n}@client.example>",
                    provider="eml",
                    from_address=f"pm{n % 200}@client.example",
                    from_name=f"Pat {n % 200}",
                    subject=f"Kitchen refit, update {n}",
                    date=now - timedelta(minutes=n),
                    received_at=now - timedelta(minutes=n),
                    text=text(n),
                    project=projects[n % 10],
                    state=EmailState.PROCESSED,
                    state_changed_at=now,
                )
                for n in range(emails)
            ),
            batch_size=5000,
        )
        with connection_cursor() as cursor:
            cursor.execute("ANALYZE events_email")
    return organization


def connection_cursor() -> Any:
    from django.db import connection

    return connection.cursor()


Stats = tuple[float, float, int, int]  # p50 s, p95 s, queries, bytes


def measure(client: Any, ours: str, admin: str) -> tuple[Stats, Stats]:
    """Our page and the admin's, requested in turn, so that a burst of load on a shared
    machine slows both alike instead of whichever was being measured at the time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    urls = (ours, admin)
    for url in urls:
        for _ in range(3):
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    times: dict[str, list[float]] = {url: [] for url in urls}
    for _ in range(RUNS):
        for url in urls:
            started = time.perf_counter()
            client.get(url)
            times[url].append(time.perf_counter() - started)
    stats = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        stats.append(
            (
                percentile(times[url], 50),
                percentile(times[url], 95),
                len(queries.captured_queries),
                len(response.content),
            )
        )
    return stats[0], stats[1]


def main() -> None:
    prepare(DATABASE)
    os.environ.update(production_env(DATABASE, DJANGO_SETTINGS_MODULE="bench.pages_settings"))
    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from organizations.models import Membership, Role
    from organizations.services import organization_create

    if (
        not __import__("organizations.models", fromlist=["Organization"])
        .Organization.objects.filter(slug="small")
        .exists()
    ):
        organization_create(
            name="Small", slug="small", owner_email="owner@bench.example", send_invitation=False, plan="enterprise"
        )
    rows: dict[str, dict[str, Stats]] = {}
    for slug, sizes in ((ORG_SLUG, SIZES), ("small", SMALL)):
        connection.set_schema_to_public()
        world = seed(slug, sizes)
        connection.set_schema_to_public()
        owner = User.objects.filter(email="owner@bench.example").first()
        if owner is None:
            owner = User.objects.create_user(email="owner@bench.example", password=None)
            EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
        User.objects.filter(pk=owner.pk).update(is_staff=True, is_superuser=True)
        Membership.objects.get_or_create(user=owner, organization=world["organization"], defaults={"role": Role.OWNER})
        client = Client(HTTP_HOST=world["organization"].host)
        client.force_login(owner)
        code = world["project"].code
        pages = {
            "projects list": ("/projects/", "/bench-admin/projects/project/"),
            "timeline": (f"/projects/{code}/", "/bench-admin/events/event/"),
            "inbox": ("/inbox/", "/bench-admin/events/email/"),
            "usage": ("/usage/", "/bench-admin/usage/usagerecord/"),
        }
        rows[slug] = {}
        for name, (ours, admin) in pages.items():
            rows[slug][name], rows[slug][f"{name} (admin)"] = measure(client, ours, admin)
        connection.set_schema_to_public()

    print("## Pages (bench/pages.py)\n")
    print(
        f"Workspace with {SIZES['projects']:,} projects, one timeline of {SIZES['events']:,} events, "
        f"{SIZES['emails']:,} emails, {SIZES['usage_days'] * SIZES['usage_per_day']:,} usage ledger rows over "
        f"{SIZES['usage_days']} days; a second one with 10 of each. Django test client in one process, DEBUG off, "
        f"{RUNS} requests after 3 warm-ups, ours and the admin's in turn. Baseline: the Django admin changelist of the same table "
        "(default ModelAdmin, 100 rows a page), same client and middleware.\n"
    )
    print(
        "| page | p50 ms | p95 ms | admin p50 ms | **ours / admin** (target ≤ 1×) | queries at 10k | "
        "queries at 10 | admin queries | same count at 10 and 10k |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    misses: list[str] = []
    for name in ("projects list", "timeline", "inbox", "usage"):
        p50, p95, queries, _ = rows[ORG_SLUG][name]
        a50, _, aqueries, _ = rows[ORG_SLUG][f"{name} (admin)"]
        small_queries = rows["small"][name][2]
        ratio = p50 / a50
        print(
            f"| {name} | {1000 * p50:.1f} | {1000 * p95:.1f} | {1000 * a50:.1f} | **{ratio:.2f}×** "
            f"{'✓' if ratio <= 1 else '✗'} | {queries} | {small_queries} | {aqueries} | "
            f"{'✓' if queries == small_queries else '✗'} |"
        )
        if name == "timeline" and ratio > 1:
            misses.append(
                f"The timeline misses by {100 * (ratio - 1):.0f} %: its page query is an index scan "
                "(event_timeline_order, in the keyset order); the rest is the template, which renders each event's "
                "history, actions and edit links where the admin renders one link per row. What would close it: "
                "load the per-event history and actions on demand (htmx) instead of with every row."
            )
        elif ratio > 1:
            misses.append(f"The {name} page misses by {100 * (ratio - 1):.0f} %.")
    for line in misses:
        print(f"\n{line}")
    search_section(owner)
    agenda_section(owner, measure, RUNS)


def search_section(owner: Any) -> None:
    """Search at each size of SEARCH_EMAILS against the admin changelist's search of the same
    table (`?q=`: icontains, a LIKE over subject, sender and text of every row)."""
    from django.db import connection
    from django.test import Client

    from organizations.models import Membership, Role

    rows = []
    for emails in SEARCH_EMAILS:
        connection.set_schema_to_public()
        organization = seed_search(f"search{emails // 1000}k", emails)
        connection.set_schema_to_public()
        Membership.objects.get_or_create(user=owner, organization=organization, defaults={"role": Role.OWNER})
        client = Client(HTTP_HOST=organization.host)
        client.force_login(owner)
        for word in SEARCH_WORDS:
            ours, admin = measure(client, f"/search/?q={word}", f"/bench-admin/events/email/?q={word}")
            rows.append((emails, word, ours, admin))
        connection.set_schema_to_public()
    print("\n### Search (bench/pages.py)\n")
    print(
        'A workspace per size with only emails (~60 words each, one in 1,000 says "mapbox", every one says '
        '"meeting"). Ours: /search/?q= (full-text on the GIN-indexed generated tsvectors of emails, events and '
        "projects, ranked, with snippets; 20 emails shown). Baseline: the admin changelist of emails searching "
        "subject, sender and text with `icontains` (a LIKE scan of every row, its COUNT and 100 rows), same client "
        f"and middleware, {RUNS} requests after 3 warm-ups, in turn.\n"
    )
    print("| emails | word | matches | p50 ms | p95 ms | LIKE p50 ms | **ours / LIKE** | queries | LIKE queries |")
    print("|---|---|---|---|---|---|---|---|---|")
    for emails, word, (p50, p95, queries, _), (a50, _, aqueries, _) in rows:
        matches = emails // 1000 if word == "mapbox" else emails
        print(
            f"| {emails:,} | {word} | {matches:,} | {1000 * p50:.1f} | {1000 * p95:.1f} | {1000 * a50:.1f} | "
            f"**{p50 / a50:.2f}×** | {queries} | {aqueries} |"
        )


if __name__ == "__main__":
    main()
