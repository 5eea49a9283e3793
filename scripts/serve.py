"""The web server for `make run`: gunicorn on PORT, on IPv4 and (when available) IPv6 loopback.

Browsers resolve acme.localhost to 127.0.0.1 or ::1, so both are bound.
"""

from __future__ import annotations

import os
import socket
import sys


def ipv6_loopback_available(port: int) -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", port))
    except OSError:
        return False
    return True


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    binds = ["-b", f"127.0.0.1:{port}"]
    if ipv6_loopback_available(port):
        binds += ["-b", f"[::1]:{port}"]
    args = [
        "gunicorn",
        "config.wsgi",
        *binds,
        "--workers",
        os.environ.get("WEB_CONCURRENCY", "2"),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ]
    os.execvp(sys.executable, [sys.executable, "-m", *args])


if __name__ == "__main__":
    main()
