"""`make run`: database, migrations, demo organization, then web server + worker until Ctrl-C.

Uses the embedded PostgreSQL in .data/pg unless DATABASE_URL is set, and stops it on exit if
this run started it (a server already up may be serving tests or benchmarks).
Running it again reuses the data.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def dev_env_write() -> None:
    """A `.env` for this checkout on the first `make run`, so that `manage.py` in another terminal
    runs in the same development mode, and with a secret key of its own rather than one shared by
    every install (a hand-off signed with a known key could be forged on a reachable machine)."""
    path = ROOT / ".env"
    if path.exists():
        return
    path.write_text(
        "# Written by `make run` for local development of this checkout; .env.example documents every variable.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(48)}\n"
    )
    path.chmod(0o600)


def main() -> int:
    dev_env_write()
    env = dict(os.environ)
    env.setdefault("DEBUG", "true")
    env.setdefault("PORT", "8000")
    env.setdefault("PUBLIC_PORT", env["PORT"])
    env.setdefault("PYTHONUNBUFFERED", "1")
    # The venv's bin first, so honcho's processes use the project's Python and tools.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # A server that was already up belongs to whoever started it (a test run, a benchmark, a
    # manage.py in another terminal): stopping it on exit would cut them off mid-query.
    pid_file = ROOT / ".data" / "pg" / "postmaster.pid"  # config.embedded_pg.PG_DIR_NAME
    stop_on_exit = not env.get("DATABASE_URL") and not pid_file.exists()
    started = time.perf_counter()
    try:
        print("▸ migrating the public schema, the template and every organization …", flush=True)
        manage("migrate_schemas", "--noinput", env=env)
        manage("createcachetable", env=env)
        manage("setup_platform", env=env)
        manage("setup_schedules", env=env)
        manage("seed_demo", env=env)
        port = env["PORT"]
        print(
            f"\n▸ ready in {time.perf_counter() - started:.0f}s\n"
            f"  public site: http://localhost:{port}/\n"
            f"  demo workspace: http://acme.localhost:{port}/  (Ctrl-C stops everything)\n",
            flush=True,
        )
        process = subprocess.Popen([sys.executable, "-m", "honcho", "start", "-f", "Procfile.dev"], cwd=ROOT, env=env)
        try:
            code = process.wait()
            # Ctrl-C reaches honcho too; stopping on request is a clean exit.
            return 0 if code in (130, -signal.SIGINT, -signal.SIGTERM) else code
        except KeyboardInterrupt:
            # honcho got the same SIGINT from the terminal and is stopping web and worker.
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            return 0
    except subprocess.CalledProcessError as exc:
        print(f"✗ {' '.join(map(str, exc.cmd))} failed (exit {exc.returncode})", file=sys.stderr)
        return exc.returncode
    except KeyboardInterrupt:
        return 130
    finally:
        if stop_on_exit:
            subprocess.run([sys.executable, "-m", "config.embedded_pg", "stop"], cwd=ROOT, env=env, check=False)


if __name__ == "__main__":
    sys.exit(main())
