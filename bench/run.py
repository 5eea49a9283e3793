"""`make bench`: run every benchmark (each measures its own baseline in the same run) and
write BENCHMARKS.md with the date, the commit and the machine.

`python bench/run.py tenants extraction` runs only the named ones; their sections replace the
old ones in BENCHMARKS.md and the other sections are kept. A benchmark prints its figures;
it exits non-zero only when it could not run. ON_REQUEST ones (tenants-scale: tens of minutes)
run only when named.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time

from common import ROOT, machine

BENCHMARKS: dict[str, list[str]] = {
    "unseen": ["bench/pipeline_eval.py", "--markdown"],
    "extraction": ["bench/extraction_eval.py", "--markdown"],
    "tenants": ["bench/tenants.py"],
    "webhook": ["bench/webhook.py"],
    "part_bomb": ["bench/part_bomb.py"],
    "edge_memory": ["bench/edge_memory.py"],
    "pipeline": ["bench/pipeline.py"],
    "latency": ["bench/latency.py"],
    "pages": ["bench/pages.py"],
    "ai_cost": ["bench/ai_cost.py"],
    "sql_paths": ["bench/sql_paths.py"],
    "fairness": ["bench/org_fairness.py"],
    # Tens of minutes (5,000 organizations): only when named, `make bench BENCH=tenants-scale`.
    "tenants-scale": ["bench/tenants_scale.py"],
}
ON_REQUEST = {"tenants-scale"}
OUTPUT = ROOT / "BENCHMARKS.md"


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    # BENCHMARKS.md itself is changed by every earlier benchmark of the same run.
    dirty = [line for line in status.splitlines() if not line.endswith(OUTPUT.name)]
    return result.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def existing_sections() -> dict[str, str]:
    if not OUTPUT.exists():
        return {}
    sections: dict[str, str] = {}
    for match in re.finditer(r"<!-- bench:([\w-]+) -->\n(.*?)<!-- /bench:\1 -->", OUTPUT.read_text(), re.S):
        sections[match.group(1)] = match.group(2)
    return sections


def main(names: list[str]) -> int:
    selected = names or [name for name in BENCHMARKS if name not in ON_REQUEST]
    unknown = [n for n in selected if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    measured: dict[str, str] = {}
    failed = []
    for name in selected:
        print(f"▸ {name} …", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, *BENCHMARKS[name]], cwd=ROOT, capture_output=True, text=True)
        took = time.perf_counter() - started
        if result.returncode != 0:
            print(result.stdout[-3000:], result.stderr[-3000:])
            failed.append(name)
            continue
        stamp = f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC at commit {commit()} in {took:.0f} s._\n\n"
        measured[name] = result.stdout.strip() + "\n\n" + stamp
        print(result.stdout)
    # Re-read just before writing, so sections another run wrote meanwhile are kept.
    sections = {**existing_sections(), **measured}
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (bench/run.py). Every benchmark measures its baseline in the same run and "
        "reports the ratio, because absolute times on shared machines drift.\n\n"
        f"Machine: {machine()}.\n\n"
    )
    body = "".join(f"<!-- bench:{n} -->\n{sections[n]}<!-- /bench:{n} -->\n\n" for n in BENCHMARKS if n in sections)
    OUTPUT.write_text(header + body)
    if failed:
        print(f"could not run: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
