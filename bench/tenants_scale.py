"""Thousands of organizations on one PostgreSQL: what grows with their number and what stays flat.

`make bench BENCH=tenants-scale` (not in the default `make bench`: at 5,000 organizations it
takes tens of minutes). BENCH_TENANTS_SCALE sets how many organizations (default 5000); the
figures are measured at 10, 1,000 and that many (those not above it):

- onboarding: organization_create (the template cloned into a new schema, its host, the owner's
  invitation), each one timed; the mean of the first and the last 100;
- routing: the host → organization lookup of django-tenants' middleware plus the schema switch
  (in process, against a bare query), and GET /api/v1/projects with each organization's own key
  on a gunicorn worker (one worker, one thread, DEBUG off) over every organization in random order;
- memory: that web worker's RSS after ten organizations and after all of them, and the RSS of
  the PostgreSQL server process behind its connection (its catalog caches grow with every table
  it has opened);
- the catalog: pg_catalog's size and relation count, per organization;
- the schedules that visit every organization (the stale-mail sweep, every 5 min);
- /healthz's queue figures, one UNION ALL over every organization's events_email: the locks it
  takes, counted at 10 organizations (it is not run where it would fill the server's shared lock
  table, which would make other sessions on the server fail);
- at the end, `migrate_schemas --tenant --executor=multiprocessing` of one small new migration
  (bench/scale_app: a table with an index, a nullable column on events_email) over all of them,
  per schema, and the same rate extrapolated to 50,000.

Runs on its own database (bench_tenants_scale, copied by bench/perfdb.py) with the real code.
Prints a Markdown section on stdout, progress on stderr and in /tmp/bench_tenants_scale.log.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, mean, percentile
from perfdb import _sql, children, gunicorn, prepare, production_env

DATABASE = "bench_tenants_scale"
SIZE = int(os.environ.get("BENCH_TENANTS_SCALE", "5000"))
CHECKPOINTS = sorted({n for n in (10, 1000, SIZE) if n <= SIZE})
EDGE = 100  # onboarding: the first and the last this many
ROUTING_SAMPLES = 500
EXTRAPOLATE_TO = 50_000
KEYS = Path(tempfile.gettempdir()) / f"{DATABASE}-keys.json"
STATE = Path(tempfile.gettempdir()) / f"{DATABASE}-state.json"
LOG = Path(tempfile.gettempdir()) / f"{DATABASE}.log"
ONBOARD = Path(tempfile.gettempdir()) / f"{DATABASE}-onboard.txt"


def log(message: str) -> None:
    # Also to a file: `make bench` shows a benchmark's stderr only when it fails.
    line = f"[{time.strftime('%H:%M:%S')}] {message}"
    print(line, file=sys.stderr, flush=True)
    with LOG.open("a") as handle:
        handle.write(line + "\n")


# --- in the Django process ------------------------------------------------------------------


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def grow(target: int) -> dict[str, Any]:
    """Onboard organizations until there are `target` (the bench org of perfdb not counted) or
    the clock passes BENCH_TENANTS_SCALE_UNTIL (HH:MM UTC), each timed (appended to ONBOARD as
    it goes, so a stopped run keeps them); a read API key for each, untimed, kept in KEYS."""
    import datetime as dt

    from django_tenants.utils import schema_exists

    from api.models import ApiKeyScope
    from api.services import api_key_create
    from organizations.models import Organization
    from organizations.services import organization_create

    until = os.environ.get("BENCH_TENANTS_SCALE_UNTIL")
    deadline = None
    if until:
        hour, minute = (int(part) for part in until.split(":"))
        deadline = dt.datetime.now(dt.UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    keys: dict[str, str] = json.loads(KEYS.read_text()) if KEYS.exists() else {}
    # A run stopped inside organization_create leaves the organization's row without its
    # schema (the row commits first), which every later visit of all schemas trips over.
    for organization in Organization.objects.filter(slug__startswith="scale-"):
        if not schema_exists(organization.schema_name):
            log(f"removing {organization.slug}: its schema was never made (a stopped run)")
            Organization.objects.filter(pk=organization.pk).delete()  # its public rows go with it
            keys.pop(organization.host, None)
    made = list(Organization.objects.filter(slug__startswith="scale-").order_by("slug"))
    for organization in made:
        if organization.host not in keys:  # made by a run that was stopped before it wrote its keys
            keys[organization.host] = api_key_create(
                organization=organization, actor=None, name="bench", scope=ApiKeyScope.READ
            ).secret
    i = len(made)
    times: list[float] = []
    with ONBOARD.open("a") as onboard:
        while i < target and (deadline is None or dt.datetime.now(dt.UTC) < deadline):
            slug = f"scale-{i:05d}"
            started = time.perf_counter()
            organization = organization_create(
                name=f"Scale {i}", slug=slug, owner_email=f"owner@{slug}.example", send_invitation=False
            ).organization
            times.append(time.perf_counter() - started)
            onboard.write(f"{times[-1]:.4f}\n")
            keys[organization.host] = api_key_create(
                organization=organization, actor=None, name="bench", scope=ApiKeyScope.READ
            ).secret
            i += 1
            if i % 250 == 0:
                onboard.flush()
                KEYS.write_text(json.dumps(keys))
                log(f"{i} organizations, the last 250 in {sum(times[-250:]):.1f} s")
    KEYS.write_text(json.dumps(keys))
    return {"organizations": i}


def measure() -> dict[str, Any]:
    """Routing in process, the catalog, the sweep, the UNION ALL's locks (where safe)."""
    from django.db import connection
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django_tenants.middleware.main import TenantMainMiddleware

    from events.tasks import stale_requeue_task
    from organizations.models import Organization

    hosts = [
        f"{slug}.localhost"
        for slug in Organization.objects.filter(slug__startswith="scale-").values_list("slug", flat=True)
    ]
    random.seed(7)
    sample = [random.choice(hosts) for _ in range(ROUTING_SAMPLES)]

    def bare(request: Any = None) -> HttpResponse:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return HttpResponse()

    middleware = TenantMainMiddleware(bare)
    factory = RequestFactory()
    requests = [factory.get("/", HTTP_HOST=host) for host in sample]
    for request in requests[:20]:
        middleware(request)
    # Pairs, so the machine's load weighs on both alike: a request on another organization's
    # host through the middleware (its Domain row looked up, `SET search_path`, the query), then
    # the bare query alone on the same schema.
    plain, routed = [], []
    for request in requests:
        started = time.perf_counter()
        middleware(request)
        routed.append(time.perf_counter() - started)
        started = time.perf_counter()
        bare()
        plain.append(time.perf_counter() - started)
    connection.set_schema_to_public()

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT sum(pg_total_relation_size(c.oid)), count(*) FILTER (WHERE c.relkind IN ('r', 'i', 'S', 't'))
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog'"""
        )
        catalog_bytes, catalog_relations = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_class")
        (all_relations,) = cursor.fetchone()
        cursor.execute("SELECT pg_database_size(current_database())")
        (database_bytes,) = cursor.fetchone()
        cursor.execute("SHOW max_locks_per_transaction")
        (max_locks,) = cursor.fetchone()
        cursor.execute("SHOW max_connections")
        (max_connections,) = cursor.fetchone()

    # Every tenant table's foreign key to the user table puts two triggers on it, and a new
    # connection's first query on it loads them all (PostgreSQL's relation cache).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.accounts_user'::regclass")
        (user_triggers,) = cursor.fetchone()
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        started = time.perf_counter()
        cursor.execute("SELECT id FROM public.accounts_user LIMIT 1")
        user_first = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("SELECT id FROM public.accounts_user LIMIT 1")
        user_next = time.perf_counter() - started

    clone = clone_breakdown()
    log("one clone's statements: " + ", ".join(f"{kind} {seconds:.2f} s" for kind, seconds in clone.items()))

    started = time.perf_counter()
    stale_requeue_task()
    sweep = time.perf_counter() - started

    union_locks = union_schemas = None
    if len(hosts) <= 10:
        # The relation locks the one statement takes, counted inside its transaction, less
        # those of an empty transaction.
        from django.db import transaction

        from ops.selectors import queue_figures

        count = "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(count)
            (before,) = cursor.fetchone()
            queue_figures()
            cursor.execute(count)
            (after,) = cursor.fetchone()
            transaction.set_rollback(True)
        union_locks = after - before
        union_schemas = Organization.objects.filter(is_template=False).exclude(schema_name="public").count()
    return {
        "organizations": len(hosts),
        "routed": routed,
        "plain": plain,
        "catalog_bytes": int(catalog_bytes),
        "catalog_relations": int(catalog_relations),
        "all_relations": int(all_relations),
        "database_bytes": int(database_bytes),
        "sweep": sweep,
        "load": os.getloadavg()[0],
        "user_triggers": user_triggers,
        "clone": clone,
        "user_first": user_first,
        "user_next": user_next,
        "union_locks": union_locks,
        "union_schemas": union_schemas,
        "max_locks": int(max_locks),
        "max_connections": int(max_connections),
    }


def clone_breakdown() -> dict[str, float]:
    """Where one onboarding clone's time goes: organizations.schema_template.schema_clone into a
    throwaway schema (dropped after), its statements timed by kind."""
    from django.db import connection

    from organizations.schema_template import schema_clone

    kinds: dict[str, float] = {}

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if "REFERENCES" in sql and "accounts_user" in sql:
                kind = "foreign keys to the user table"
            elif "FOREIGN KEY" in sql:
                kind = "foreign keys between tenant tables"
            elif sql.startswith(("CREATE INDEX", "CREATE UNIQUE INDEX")):
                kind = "indexes"
            elif sql.startswith("CREATE TABLE"):
                kind = "tables"
            elif "ADD CONSTRAINT" in sql:
                kind = "primary keys and unique constraints"
            else:
                kind = "catalog reads and the rest"
            kinds[kind] = kinds.get(kind, 0.0) + time.perf_counter() - started

    with connection.execute_wrapper(timed):
        schema_clone("tenant_template", "bench_clone_probe")
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA bench_clone_probe CASCADE")
    return dict(sorted(kinds.items(), key=lambda item: -item[1]))


# --- the orchestrator -----------------------------------------------------------------------


def in_django(step: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, step, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))  # type: ignore[no-any-return]


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def get(port: int, host: str, key: str) -> float:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/v1/projects", headers={"Host": host, "Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{host}: {response.status}")
    return time.perf_counter() - started


def serve(env: dict[str, str]) -> dict[str, Any]:
    """One gunicorn worker answering every organization's API once, in random order."""
    keys: dict[str, str] = json.loads(KEYS.read_text())
    hosts = sorted(keys)
    random.seed(11)
    random.shuffle(hosts)
    server, port = gunicorn("config.wsgi", env, workers=1, threads=1)
    try:
        (worker,) = children(server.pid)
        for host in hosts[:10] * 3:
            get(port, host, keys[host])
        rss_ten = rss_kb(worker)
        backends = [
            int(p)
            for p in _sql(
                f"SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE datname = '{DATABASE}'"
            ).split(",")
            if p
        ]
        backend_ten = sum(rss_kb(pid, "RssAnon") for pid in backends)
        latencies = [get(port, host, keys[host]) for host in hosts]
        rss_all = rss_kb(worker)
        backend_all = sum(rss_kb(pid, "RssAnon") for pid in backends)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "latencies": latencies,
        "rss_ten_kb": rss_ten,
        "rss_all_kb": rss_all,
        "backend_ten_kb": backend_ten,
        "backend_all_kb": backend_all,
    }


def migrate(env: dict[str, str]) -> tuple[float, int]:
    """The small new migration over every tenant schema (the template and perfdb's bench org included)."""
    settings_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.tenants_scale_settings"}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--noinput", "--executor=multiprocessing"],
        cwd=ROOT,
        env=settings_env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    schemas = int(
        _sql_in(
            DATABASE, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'org\\_%' OR nspname = 'tenant_template'"
        )
    )
    applied = int(
        _sql_in(DATABASE, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'bench_scale_note'")
    )
    if applied != schemas:
        raise RuntimeError(f"the migration reached {applied} of {schemas} schemas")
    return seconds, schemas


def _sql_in(database: str, statement: str) -> str:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()\n"
        "from django.db import connection\n"
        f"cur = connection.cursor(); cur.execute({statement!r}); print(cur.fetchone()[0])\n"
    )
    env = production_env(database)
    return (
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )


def main() -> None:
    """Fresh, or (BENCH_REUSE_DB=1) resumed from STATE: the organizations already made stay and
    the figures of the checkpoints already passed are kept, so a run stopped for time can end
    at a smaller size (BENCH_TENANTS_SCALE=<organizations made>) with its migration."""
    started_all = time.perf_counter()
    resume = os.environ.get("BENCH_REUSE_DB") == "1" and STATE.exists()
    state: dict[str, Any] = json.loads(STATE.read_text()) if resume else {"points": {}, "seconds": 0}
    if not resume:
        KEYS.unlink(missing_ok=True)
        ONBOARD.unlink(missing_ok=True)
        prepare(DATABASE)
    env = production_env(DATABASE, LOG_LEVEL="WARNING", CONN_MAX_AGE="600")
    for checkpoint in CHECKPOINTS:
        if str(checkpoint) in state["points"]:
            continue
        log(f"growing to {checkpoint} organizations")
        reached = in_django("--grow", str(checkpoint), env=env)["organizations"]
        log(f"measuring at {reached}")
        point = in_django("--measure", env=env)
        point.update(serve(env))
        state["points"][str(checkpoint)] = point
        STATE.write_text(json.dumps({**state, "seconds": state["seconds"] + time.perf_counter() - started_all}))
        log(
            f"at {reached}: API p50 {1000 * percentile(point['latencies'], 50):.1f} ms, "
            f"worker {point['rss_all_kb'] // 1024} MB, load {point['load']:.1f}"
        )
        if reached < checkpoint:
            break  # out of time (BENCH_TENANTS_SCALE_UNTIL): this size is the run's
    log("migrating")
    migrate_seconds, schemas = migrate(env)
    points = {p["organizations"]: p for p in state["points"].values()}
    onboard = [float(line) for line in ONBOARD.read_text().split()]
    report(onboard, points, migrate_seconds, schemas, state["seconds"] + time.perf_counter() - started_all)
    for path in (KEYS, STATE, ONBOARD):
        path.unlink(missing_ok=True)


def report(
    onboard: list[float],
    points: dict[int, dict[str, Any]],
    migrate_seconds: float,
    schemas: int,
    total: float,
    migrate_of: int | None = None,
) -> None:
    """The Markdown section. `migrate_of`: the schemas the migration was for, when it was
    stopped after `schemas` of them (its rate still measured)."""
    edge = min(EDGE, len(onboard) // 2)
    first, last = mean(onboard[:edge]), mean(onboard[-edge:])
    sizes = sorted(points)
    small, large = points[sizes[0]], points[sizes[-1]]
    reached = sizes[-1]
    print(f"## {reached:,} organizations on one PostgreSQL (bench/tenants_scale.py)\n")
    stopped = (
        f", stopped at {reached:,} by the clock (BENCH_TENANTS_SCALE_UNTIL={os.environ.get('BENCH_TENANTS_SCALE_UNTIL')})"
        if reached < SIZE
        else ""
    )
    untimed = reached - len(onboard)
    print(
        f"One database, organizations created one after another (BENCH_TENANTS_SCALE={SIZE}{stopped}); "
        f"figures at {', '.join(f'{n:,}' for n in sizes)} organizations"
        + (
            f"; {untimed} of them, made by a run that was stopped and resumed, have no onboarding time"
            if untimed
            else ""
        )
        + ".\n"
    )
    print("| measure | value |\n|---|---|")
    print(f"| onboarding (`organization_create`), first {edge} mean | {1000 * first:.0f} ms |")
    print(f"| onboarding, last {edge} timed mean | {1000 * last:.0f} ms |")
    print(f"| **last {edge} / first {edge}** (target ≤ 1.2) | **{last / first:.2f}** |")
    print(
        f"| onboarding, all {len(onboard):,} | {sum(onboard) / 60:.1f} min ({len(onboard) / sum(onboard):.1f} per second) |"
    )
    bands = [(start, mean(onboard[start : start + 500])) for start in range(0, len(onboard), 500)]
    print(
        "| onboarding mean by 500 organizations | "
        + ", ".join(
            f"{start + 1:,}–{min(start + 500, len(onboard)):,}: {1000 * value:.0f} ms" for start, value in bands
        )
        + " |"
    )
    print()
    header = " | ".join(f"{n:,} orgs" for n in sizes)
    print(f"| at | {header} |\n|---|{'---|' * len(sizes)}")

    def row(label: str, values: list[str]) -> None:
        print(f"| {label} | {' | '.join(values)} |")

    def overhead(p: dict[str, Any], pct: float) -> float:
        return 1e6 * percentile([r - b for r, b in zip(p["routed"], p["plain"], strict=True)], pct)

    row(
        f"routing: host → organization + schema switch, over a bare query, p50 (in process, {ROUTING_SAMPLES} random hosts)",
        [f"{overhead(points[n], 50):.0f} µs" for n in sizes],
    )
    row("routing, p95", [f"{overhead(points[n], 95):.0f} µs" for n in sizes])
    row(
        "GET /api/v1/projects, each organization once, p50 / p95 (gunicorn, 1 worker)",
        [
            f"{1000 * percentile(points[n]['latencies'], 50):.1f} / {1000 * percentile(points[n]['latencies'], 95):.1f} ms"
            for n in sizes
        ],
    )
    row("web worker RSS after 10 organizations", [f"{points[n]['rss_ten_kb'] / 1024:.0f} MB" for n in sizes])
    row("web worker RSS after all of them", [f"{points[n]['rss_all_kb'] / 1024:.0f} MB" for n in sizes])
    row(
        "its PostgreSQL server process, private memory (RssAnon) after 10 → after all",
        [f"{points[n]['backend_ten_kb'] / 1024:.0f} → {points[n]['backend_all_kb'] / 1024:.0f} MB" for n in sizes],
    )
    row("relations in the database (pg_class)", [f"{points[n]['all_relations']:,}" for n in sizes])
    row("pg_catalog size", [f"{points[n]['catalog_bytes'] / 2**20:.0f} MB" for n in sizes])
    row("database size", [f"{points[n]['database_bytes'] / 2**20:.0f} MB" for n in sizes])
    row(
        "triggers on the user table (two per tenant foreign key to it)",
        [f"{points[n].get('user_triggers', '–'):,}" if "user_triggers" in points[n] else "–" for n in sizes],
    )
    row(
        "a new connection's first query on the user table / the next one",
        [
            f"{1000 * points[n]['user_first']:.0f} / {1000 * points[n]['user_next']:.1f} ms"
            if "user_first" in points[n]
            else "–"
            for n in sizes
        ],
    )
    row(
        "one clone's foreign keys to the user table / all its statements",
        [
            f"{points[n]['clone'].get('foreign keys to the user table', 0):.2f} / {sum(points[n]['clone'].values()):.2f} s"
            if "clone" in points[n]
            else "–"
            for n in sizes
        ],
    )
    row("stale-mail sweep over every organization (every 5 min)", [f"{points[n]['sweep']:.1f} s" for n in sizes])
    row("machine load (1-min load average, 2 cores) while measuring", [f"{points[n]['load']:.1f}" for n in sizes])
    print()
    grown = large["organizations"] - small["organizations"]
    catalog_per = (large["catalog_bytes"] - small["catalog_bytes"]) / grown
    relations_per = (large["all_relations"] - small["all_relations"]) / grown
    database_per = (large["database_bytes"] - small["database_bytes"]) / grown
    sweep_per = (large["sweep"] - small["sweep"]) / grown
    print("| per organization | value |\n|---|---|")
    print(f"| relations (tables, indexes, sequences, TOAST) | {relations_per:.0f} |")
    print(f"| pg_catalog growth | {catalog_per / 1024:.0f} KB |")
    print(f"| database growth (empty organization: catalog, index meta pages) | {database_per / 1024:.0f} KB |")
    print(f"| stale-mail sweep | {1000 * sweep_per:.1f} ms |")
    locks = small["union_locks"]
    if locks:
        per_org = locks / small["union_schemas"]
        table = small["max_locks"] * small["max_connections"]
        print(
            f"| /healthz and /metrics queue figures (one UNION ALL over every schema): relation locks | {per_org:.0f} "
            f"({locks} over {small['union_schemas']} schemas); the server's shared lock table holds "
            f"max_locks_per_transaction × max_connections = {small['max_locks']} × {small['max_connections']} = {table:,}, "
            f"so the statement fails (`out of shared memory`) past ≈ {table / per_org:,.0f} organizations — calculated, not run |"
        )
    per_schema = migrate_seconds / schemas
    print()
    processes = os.environ.get("TENANT_MIGRATION_PROCESSES", "2")
    print(
        f"| `migrate_schemas --tenant --executor=multiprocessing` ({processes} processes), one small new migration "
        "| value |\n|---|---|"
    )
    if migrate_of and migrate_of > schemas:
        print(
            f"| schemas migrated before the run was stopped for time (of {migrate_of:,}: the organizations, "
            f"the template, perfdb's bench organization) | {schemas:,} |"
        )
        print(f"| time for those, from the command's start | {migrate_seconds / 60:.1f} min |")
    else:
        print(f"| schemas migrated (organizations, the template, perfdb's bench organization) | {schemas:,} |")
        print(f"| total | {migrate_seconds / 60:.1f} min |")
    print(f"| per schema | {1000 * per_schema:.0f} ms |")
    print(
        f"| **extrapolated** to {EXTRAPOLATE_TO:,} schemas at the same rate (not measured) | "
        f"**{per_schema * EXTRAPOLATE_TO / 3600:.1f} h** |"
    )
    if last / first > 1.2 and "clone" in large:
        keys = large["clone"].get("foreign keys to the user table", 0.0)
        print(
            f"\nOnboarding does not stay flat. Each organization's tables hold foreign keys to public.accounts_user, "
            f"two triggers each on that one table ({large['user_triggers']:,} at {reached:,} organizations): "
            f"adding them took {keys:.2f} of one clone's {sum(large['clone'].values()):.2f} s at {reached:,}, "
            "and each takes a lock on the user table that waits for (and holds up) every other clone and "
            "every sign-in's update of it until the clone commits (PostgreSQL's SHARE ROW EXCLUSIVE lock for ADD FOREIGN KEY; not timed here)."
        )
    print(f"\n_Whole run {total / 60:.0f} min._")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--grow", "--measure"):
        django_setup()
        measured = grow(int(sys.argv[2])) if sys.argv[1] == "--grow" else measure()
        print("RESULT " + json.dumps(measured))
    else:
        main()
