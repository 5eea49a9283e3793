"""config.sql against the stock path: the same writes and reads, three ways, in one process.

- **config.sql**: `rows_insert` (several models' INSERTs in one statement of data-modifying
  CTEs), the worker's hand-written claim and state change, the name match compiled once per
  process (`queryset_sql`, `RowReader`), all through `prepared_cursor` (server-side binding,
  prepared once per connection). The code uses it only where it wins clearly (`CLEAR_WIN`);
  the usage row is measured still, written with the ORM since it did not.
- **ORM, server-side binding**: Django's own `server_side_binding=True` (psycopg 3's
  ServerBindingCursor) with psycopg's automatic preparation (`prepare_threshold` 0, as
  config/settings.py sets it), plain `save()`/`create()`/`bulk_create()`/`update()` inside
  `transaction.atomic()` where there are several statements (one row in autocommit: `save()`).
- **ORM, Django's default**: the same ORM calls on client-side binding (no preparation).

Each variant has its own connection to the same database (bench/sql_paths_settings.py adds
the aliases). Every operation is measured in ROUNDS rounds in which the variants take turns
in a rotating order, so the machine's drift falls on all alike. The operations:

- the webhook's store: the Email (a ~20 KB message), its first log row, the public Delivery
  row and the django-q2 task row, from a connection on the public search path (as the webhook
  runs). The ORM writes tables on the search path, so it switches to the organization's
  schema and back (a `SET search_path` each way, as django-tenants does);
- the worker's writes, on the organization's search path: the claim (queued → processing, its
  log row, the row and its attachments' names read back), an event with its history row
  (inside the apply's transaction), the usage row, the state change with its log row;
- the worker's read asked for nearly every email: the open project named or aliased so.

Round trips are counted from libpq's protocol trace (each Sync or simple Query the client
sends), so BEGIN, COMMIT and SET search_path count too.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from common import ROOT
from perfdb import ORG_SLUG, prepare, production_env

DATABASE = "bench_sql"
ROUNDS = int(os.environ.get("BENCH_SQL_ROUNDS", "6"))
PER_ROUND = int(os.environ.get("BENCH_SQL_PER_ROUND", "100"))
VARIANTS = {"ours": "default", "server": "server_binding", "client": "client_binding"}
LABELS = {
    "ours": "config.sql",
    "server": "ORM, `server_side_binding` + prepared",
    "client": "ORM, Django's default binding",
}
OPERATIONS = {
    "store": "webhook store (Email 20 KB, log, Delivery, queue rows)",
    "claim": "worker claim (UPDATE, log row, row and attachments read back)",
    "event": "worker event + history row (inside the apply's transaction)",
    "usage": "worker usage row",
    "state": "worker state change + log row",
    "name": "worker project name match (read)",
}
# What the Email takes from the parsed message as it is (events.ingest.email_store's fields).
PARSED_FIELDS = (
    "from_address",
    "from_name",
    "to",
    "cc",
    "subject",
    "date",
    "in_reply_to",
    "references",
    "text",
    "html",
)
# A variant is kept only where it beats the best stock path by this much (median, per operation).
CLEAR_WIN = 1.2


def measure() -> dict[str, Any]:
    from webhook import message

    # bench/ is first on the path (this script's folder): the apps must win over any bench
    # module named as one of them.
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.sql_paths_settings"
    import django

    django.setup()
    from decimal import Decimal
    from uuid import uuid4

    from django.db import connections, transaction
    from django.db.models import F, Q
    from django.utils import timezone

    from config.sql import rows_insert
    from events.apply import _named_project
    from events.enqueue import email_task_rows
    from events.ingest import email_id_reserve, message_parse, parse_bytes
    from events.models import Attachment, Email, EmailLog, EmailState, Event, EventHistory
    from events.processing import _claim_row, _set_state
    from inbound.models import Delivery, Verdict
    from organizations.models import Organization
    from projects.models import OPEN_STATUSES, Project, ProjectAlias
    from usage.models import UsageRecord

    organization = Organization.objects.get(slug=ORG_SLUG)
    schema = organization.schema_name
    parsed = message_parse(parse_bytes(message(0)))
    raw_size = len(message(0))
    counter = iter(range(10**9))

    def email_row(pk: int | None = None, state: str = EmailState.QUEUED) -> Email:
        n = next(counter)
        now = timezone.now()
        return Email(
            pk=pk,
            code=uuid4(),
            message_id=f"<sql-{os.getpid()}-{n}@client.example>",
            provider="postmark",
            provider_event_id=f"sql-{os.getpid()}-{n}",
            envelope_recipient=f"{ORG_SLUG}@in.localhost",
            received_at=now,
            headers=[list(pair) for pair in parsed.headers],
            size=raw_size,
            state=state,
            state_changed_at=now,
            raw=f"{schema}/raw/{n}.eml",
            **{name: getattr(parsed, name) for name in PARSED_FIELDS},
        )

    def on_public(alias: str) -> None:
        connections[alias].set_schema_to_public()
        connections[alias].cursor().close()  # django-tenants sets the path when a cursor opens

    def on_schema(alias: str) -> None:
        connections[alias].set_schema(schema)
        connections[alias].cursor().close()

    # --- the webhook's store ----------------------------------------------------------------

    def store_rows(alias: str) -> list[list[Any]]:
        connections["default"].set_schema_to_public()
        email = email_row(pk=email_id_reserve(schema))  # the loop check's round trip takes it
        log = EmailLog(email=email, at=email.received_at, state=email.state, message="Received; SPF pass")
        delivery = Delivery(
            provider="postmark",
            event_id=email.provider_event_id,
            message_id=email.message_id,
            recipient=email.envelope_recipient,
            sender=email.from_address,
            subject=email.subject,
            organization=organization,
            verdict=Verdict.ACCEPTED,
            authentication="pass",
            size=raw_size,
            email_code=email.code,
        )
        queued = email_task_rows(schema_name=schema, email_id=email.pk) or []
        # The queue's rows, one list per table (older versions returned the task rows alone).
        tables = queued if queued and isinstance(queued[0], list) else [queued]
        return [[email], [log], [delivery], *tables]

    def store_ours(groups: list[list[Any]]) -> None:
        rows_insert(*groups, schema_name=schema)

    def store_orm(alias: str) -> Callable[[list[list[Any]]], None]:
        def run(groups: list[list[Any]]) -> None:
            connections[alias].set_schema(schema)
            with transaction.atomic(using=alias):
                for group in groups:
                    if len(group) == 1:
                        group[0].save(force_insert=True, using=alias)
                    else:
                        type(group[0]).objects.using(alias).bulk_create(group)
            on_public(alias)  # the next request's tenant lookup switches back

        return run

    # --- the worker's writes and read, on the organization's search path ----------------------

    project = Project.objects.none()  # set below, on the schema
    pools: dict[str, list[int]] = {}

    def claim_ours(email_id: int) -> None:
        assert _claim_row(email_id) is not None

    def claim_orm(alias: str) -> Callable[[int], None]:
        def run(email_id: int) -> None:
            now = timezone.now()
            emails = Email.objects.using(alias)
            with transaction.atomic(using=alias):
                claimed = emails.filter(pk=email_id, state=EmailState.QUEUED).update(
                    state=EmailState.PROCESSING, state_changed_at=now, attempts=F("attempts") + 1
                )
                assert claimed
                EmailLog.objects.using(alias).create(
                    email_id=email_id, at=now, state=EmailState.PROCESSING, message="Processing"
                )
            emails.get(pk=email_id)
            names = Attachment.objects.using(alias).filter(email_id=email_id).order_by("pk")
            list(names.values_list("filename", flat=True))
            list(names.exclude(file="").filter(filename__iendswith=".ics").values_list("file", flat=True))

        return run

    def event_rows(alias: str) -> tuple[Event, EventHistory]:
        event = Event(
            project=project,
            email_id=pools[alias][0],
            kind="meeting",
            title="Worktop template visit",
            date=timezone.now().date(),
            evidence="The worktop template visit is booked for Wednesday 9 December at 10:00",
            confidence=0.9,
            provider="anthropic",
            model="claude-haiku-5-5",
        )
        history = EventHistory(event=event, action="created", email_id=event.email_id, after={"kind": "meeting"})
        return event, history

    def event_ours(rows: tuple[Event, EventHistory]) -> None:
        rows_insert([rows[0]], [rows[1]])

    def event_orm(alias: str) -> Callable[[tuple[Event, EventHistory]], None]:
        def run(rows: tuple[Event, EventHistory]) -> None:
            event, history = rows
            event.save(using=alias)
            history.event_id = event.pk  # by id: the instances belong to different aliases
            history.save(using=alias)

        return run

    def usage_row(alias: str) -> list[UsageRecord]:
        return [
            UsageRecord(
                organization=organization,
                email_code=uuid4(),
                provider="anthropic",
                model="claude-haiku-5-5",
                input_tokens=700,
                output_tokens=150,
                cache_read_tokens=2100,
                cost_usd=Decimal("0.001430"),
                price_version="2026-11",
                request_id="req_bench",
            )
        ]

    def usage_ours(rows: list[UsageRecord]) -> None:
        rows_insert(rows)

    def usage_orm(alias: str) -> Callable[[list[UsageRecord]], None]:
        def run(rows: list[UsageRecord]) -> None:
            # In autocommit, as the worker records usage: create() is one statement, where
            # bulk_create() would add BEGIN and COMMIT around its one INSERT.
            if len(rows) == 1:
                rows[0].save(force_insert=True, using=alias)
            else:
                UsageRecord.objects.using(alias).bulk_create(rows)

        return run

    def state_ours(email_id: int) -> None:
        _set_state(email_id, EmailState.PROCESSED, "", summary="The joinery starts on Monday.")

    def state_orm(alias: str) -> Callable[[int], None]:
        def run(email_id: int) -> None:
            now = timezone.now()
            with transaction.atomic(using=alias):
                changed = (
                    Email.objects.using(alias)
                    .filter(pk=email_id)
                    .update(
                        state=EmailState.PROCESSED,
                        state_reason="",
                        state_changed_at=now,
                        summary="The joinery starts on Monday.",
                    )
                )
                if changed:
                    EmailLog.objects.using(alias).create(
                        email_id=email_id, at=now, state=EmailState.PROCESSED, message=""
                    )

        return run

    def name_ours(name: str) -> None:
        assert _named_project(name) is not None

    def name_orm(alias: str) -> Callable[[str], None]:
        def run(name: str) -> None:
            found = (
                Project.objects.using(alias)
                .filter(
                    Q(name__iexact=name) | Q(aliases__alias__iexact=name),
                    status__in=OPEN_STATUSES,
                    merged_into__isnull=True,
                )
                .first()
            )
            assert found is not None

        return run

    # --- the data the worker's operations need ------------------------------------------------

    connections["default"].set_schema(schema)
    # get_or_create: the database may be reused (BENCH_REUSE_DB=1).
    project = Project.objects.get_or_create(
        slug="harbour-street-kitchen", defaults={"name": "Harbour Street kitchen", "client_name": "Dana Client"}
    )[0]
    ProjectAlias.objects.get_or_create(project=project, alias="Harbour St kitchen")
    for n in range(40):  # a workspace's open projects beside it
        Project.objects.get_or_create(slug=f"project-{n}", defaults={"name": f"Project {n}", "client_name": "Client"})
    for alias in VARIANTS.values():
        emails = Email.objects.bulk_create([email_row() for _ in range(PER_ROUND)])
        pools[alias] = [email.pk for email in emails]
        for pk in pools[alias][:2]:
            Attachment.objects.create(email_id=pk, filename="plan.pdf", content_type="application/pdf")

    def requeue(alias: str) -> None:
        connections["default"].set_schema(schema)
        Email.objects.filter(pk__in=pools[alias]).update(state=EmailState.QUEUED)

    # operation → (one input for an alias, its search path, the runner per variant, whether it
    # runs inside a transaction of the caller's: then neither its BEGIN nor its COMMIT is counted)
    Op = tuple[Callable[[str], Any], Callable[[str], None], dict[str, Callable[[Any], None]], bool]
    pool_position: dict[str, int] = {}

    def pooled(alias: str) -> int:
        position = pool_position.get(alias, 0)
        pool_position[alias] = position + 1
        return pools[alias][position % PER_ROUND]

    def three(ours: Callable[[Any], None], orm: Callable[[str], Callable[[Any], None]]) -> dict[str, Any]:
        return {"ours": ours, "server": orm("server_binding"), "client": orm("client_binding")}

    operations: dict[str, Op] = {
        "store": (store_rows, on_public, three(store_ours, store_orm), False),
        "claim": (pooled, on_schema, three(claim_ours, claim_orm), False),
        "event": (event_rows, on_schema, three(event_ours, event_orm), True),
        "usage": (usage_row, on_schema, three(usage_ours, usage_orm), False),
        "state": (pooled, on_schema, three(state_ours, state_orm), False),
        "name": (lambda alias: "harbour st KITCHEN", on_schema, three(name_ours, name_orm), False),
    }

    def round_trips(alias: str, run: Callable[[Any], None], value: Any) -> int:
        """Messages that wait for the server (Sync, or a simple Query), from libpq's trace."""
        import psycopg.pq

        pgconn = connections[alias].connection.pgconn
        with tempfile.TemporaryFile("w+") as trace:
            pgconn.trace(trace.fileno())
            pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
            try:
                run(value)
            finally:
                pgconn.untrace()
            trace.seek(0)
            lines = trace.read().splitlines()
        return sum(1 for line in lines if line.startswith("F") and line.split()[2] in ("Sync", "Query"))

    def begun(alias: str) -> None:
        """The transaction's BEGIN sent, as the apply's earlier statements have sent it."""
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")

    def timed(alias: str, run: Callable[[Any], None], value: Any, in_transaction: bool) -> tuple[float, float]:
        """(wall, client CPU) seconds of one operation; in a transaction, BEGIN and COMMIT are not timed."""
        with transaction.atomic(using=alias) if in_transaction else nullcontext():
            if in_transaction:
                begun(alias)
            wall, cpu = time.perf_counter(), time.process_time()
            run(value)
            return time.perf_counter() - wall, time.process_time() - cpu

    results: dict[str, Any] = {}
    for name, (make, path, runners, in_transaction) in operations.items():
        times: dict[str, list[float]] = {v: [] for v in runners}
        cpu: dict[str, float] = dict.fromkeys(runners, 0.0)
        for variant, run in runners.items():  # warm up: connections, compiled SQL, prepared statements
            alias = VARIANTS[variant]
            for alias_ in VARIANTS.values():
                path(alias_)
            requeue(alias)
            for _ in range(min(10, PER_ROUND)):  # each pooled email is claimed once per round
                timed(alias, run, make(alias), in_transaction)
        trips = {}
        for round_ in range(ROUNDS):
            order = list(runners)
            order = order[round_ % len(order) :] + order[: round_ % len(order)]
            for variant in order:
                alias = VARIANTS[variant]
                run = runners[variant]
                requeue(alias)
                pool_position[alias] = 0
                inputs = [make(alias) for _ in range(PER_ROUND)]
                for alias_ in VARIANTS.values():
                    path(alias_)
                if round_ == 0:
                    value = inputs.pop()
                    with transaction.atomic(using=alias) if in_transaction else nullcontext():
                        if in_transaction:
                            begun(alias)
                        trips[variant] = round_trips(alias, run, value)
                for value in inputs:
                    wall, used = timed(alias, run, value, in_transaction)
                    times[variant].append(wall)
                    cpu[variant] += used
        results[OPERATIONS[name]] = {
            variant: {
                "median_ms": 1000 * statistics.median(times[variant]),
                "p95_ms": 1000 * sorted(times[variant])[int(0.95 * len(times[variant]))],
                "cpu_ms": 1000 * cpu[variant] / len(times[variant]),
                "round_trips": trips[variant],
                "count": len(times[variant]),
            }
            for variant in runners
        }
    import django as django_module
    import psycopg

    results["_versions"] = {"django": django_module.__version__, "psycopg": psycopg.__version__}
    return results


def main() -> None:
    prepare(DATABASE)
    env = production_env(DATABASE)
    result = subprocess.run([sys.executable, __file__, "--measure"], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-5000:], file=sys.stderr)
        raise SystemExit(result.returncode)
    results = json.loads(result.stdout.strip().splitlines()[-1])
    versions = results.pop("_versions")
    print("## config.sql against the stock path (bench/sql_paths.py)\n")
    print(
        f"One process, Django {versions['django']}, psycopg {versions['psycopg']}, DEBUG off; each variant on its own "
        f"connection to the same database; {ROUNDS} rounds of {PER_ROUND} operations per variant, the variants "
        "taking turns in a rotating order. Baselines: the ORM with Django's `server_side_binding=True` and "
        "psycopg's automatic preparation (`prepare_threshold` 0), and the ORM with Django's default client-side "
        "binding, each calling `save()`/`create()`/`bulk_create()`/`update()` in `transaction.atomic()` where "
        "there are several statements; one row in autocommit is a `save()` (one INSERT), as `bulk_create()` "
        "would add BEGIN and COMMIT. Round trips from libpq's trace (BEGIN, COMMIT and SET search_path "
        "included; for the event, written inside the apply's transaction, neither BEGIN nor COMMIT is counted "
        "or timed); client CPU is this process's, per operation. Every write that commits waits for its WAL "
        f"flush, which on this shared machine (load average {os.getloadavg()[0]:.0f} at the end of the run) "
        "dominates the medians.\n"
    )
    print("| operation | path | round trips | median ms | p95 ms | client CPU ms | median / config.sql |")
    print("|---|---|---|---|---|---|---|")
    verdicts = []
    for name, by_variant in results.items():
        ours = by_variant["ours"]["median_ms"]
        for variant, figures in by_variant.items():
            ratio = figures["median_ms"] / ours
            print(
                f"| {name} | {LABELS[variant]} | {figures['round_trips']} | {figures['median_ms']:.3f} | "
                f"{figures['p95_ms']:.3f} | {figures['cpu_ms']:.3f} | {ratio:.2f}× |"
            )
        best_stock = min(by_variant["server"]["median_ms"], by_variant["client"]["median_ms"])
        verdicts.append((name, best_stock / ours))
    print(
        f"\nKept where config.sql is at least {CLEAR_WIN}× faster than the better stock path (median per operation):\n"
    )
    print("| operation | best stock / config.sql | config.sql kept |")
    print("|---|---|---|")
    for name, ratio in verdicts:
        print(f"| {name} | {ratio:.2f}× | {'yes' if ratio >= CLEAR_WIN else 'no'} |")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if sys.argv[1:2] == ["--measure"]:
        print(json.dumps(measure()))
    else:
        main()
