"""Tenant creation: cloning the template vs running the migrations, growth over 200
organizations, and a no-op `migrate_schemas` over all of them.

Runs on its own database (bench_tenants) with the real migrations (no test shortcuts).
Prints a Markdown section on stdout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from common import ROOT, bench_env, manage, mean, recreate_database

DATABASE = "bench_tenants"
ORGS = int(os.environ.get("BENCH_TENANTS", "200"))
MIGRATE_RUNS = int(os.environ.get("BENCH_MIGRATE_RUNS", "2"))


def measure_in_django() -> dict[str, list[float]]:
    os.environ.update(bench_env(DATABASE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from organizations.services import organization_create

    def create(slug: str, *, clone: bool) -> float:
        started = time.perf_counter()
        organization_create(name=slug, slug=slug, owner_email=f"o@{slug}.example", send_invitation=False, clone=clone)
        return time.perf_counter() - started

    migrate = [create(f"migrated-{i}", clone=False) for i in range(MIGRATE_RUNS)]
    clones = [create(f"org-{i:04d}", clone=True) for i in range(ORGS)]
    return {"migrate": migrate, "clones": clones}


def main() -> None:
    recreate_database(DATABASE)
    env = bench_env(DATABASE)
    started = time.perf_counter()
    manage("migrate_schemas", "--shared", "--noinput", env=env)
    shared_seconds = time.perf_counter() - started
    manage("createcachetable", env=env)
    started = time.perf_counter()
    manage("setup_platform", env=env)
    template_seconds = time.perf_counter() - started

    result = subprocess.run(
        [sys.executable, __file__, "--measure"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    lines = [line.removeprefix("RESULT ") for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    times = {k: [float(x) for x in v.split(",")] for k, v in (line.split("=") for line in lines)}
    migrate, clones = times["migrate"], times["clones"]

    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--noinput", "--executor=multiprocessing"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    noop_seconds = time.perf_counter() - started
    tenants = len(clones) + len(migrate) + 1  # + the template

    clone_mean, migrate_mean = mean(clones[:20]), mean(migrate)
    first, last = mean(clones[:20]), mean(clones[-20:])
    print("## Tenant creation (bench/tenants.py)\n")
    print("| measure | value |\n|---|---|")
    print(f"| `migrate_schemas --shared` on an empty database | {shared_seconds:.1f} s |")
    print(f"| template schema built (`setup_platform`) | {template_seconds:.1f} s |")
    print(
        f"| create by running the migrations (`onboard_client --migrate`, mean of {len(migrate)}) | {migrate_mean:.2f} s |"
    )
    print(f"| create by cloning the template (mean of the first 20) | {clone_mean:.3f} s |")
    print(f"| **clone / migrate** (target ≤ 2 %) | **{100 * clone_mean / migrate_mean:.2f} %** |")
    print(f"| {len(clones)} organizations in a row: first 20 mean | {first:.3f} s |")
    print(f"| {len(clones)} organizations in a row: last 20 mean | {last:.3f} s |")
    print(f"| **last 20 / first 20** (target ≤ 1.2×) | **{last / first:.2f}×** |")
    print(
        f"| `migrate_schemas --tenant --executor=multiprocessing`, nothing pending, {tenants} schemas | "
        f"{noop_seconds:.1f} s ({noop_seconds / tenants * 1000:.0f} ms per schema) |"
    )
    print()


if __name__ == "__main__":
    if "--measure" in sys.argv:
        measured = measure_in_django()
        for key, values in measured.items():
            print(f"RESULT {key}={','.join(f'{v:.4f}' for v in values)}")
    else:
        main()
