"""The embedded PostgreSQL server used when DATABASE_URL is not set.

pgserver ships PostgreSQL binaries in a wheel and listens on a Unix socket only. Every
process that loads settings calls `database_settings()`; the first one starts the server
and the others attach to it through its pid file, so `make run`, `make test` and a
`manage.py` in another terminal share one server. Stopping is explicit (`stop()`), done by
the run script when it exits.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Any

PG_DIR_NAME = ".data/pg"


def _server(pgdata: Path) -> Any:
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); its fallback is fine.
        warnings.simplefilter("ignore")
        import pgserver

        pgdata.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process so other processes can share it.
        return pgserver.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]


def database_settings(pgdata: Path) -> dict[str, Any]:
    info = _server(pgdata).get_postmaster_info()
    return {
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": "",
    }


def stop(pgdata: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR warning, as in _server()
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    if not (pgdata / "postmaster.pid").exists():
        return
    user = "pgserver" if _is_root() else None
    # A server that is already stopped makes pg_ctl exit non-zero: nothing to do then.
    with contextlib.suppress(subprocess.CalledProcessError):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    target = root / PG_DIR_NAME
    command = sys.argv[1] if len(sys.argv) > 1 else "start"
    if command == "start":
        settings = database_settings(target)
        print(f"embedded PostgreSQL running, socket in {settings['HOST']}")
    elif command == "stop":
        stop(target)
        print("embedded PostgreSQL stopped")
    else:
        raise SystemExit(f"usage: python -m config.embedded_pg start|stop (got {command!r})")
