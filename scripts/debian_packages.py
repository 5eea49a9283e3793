"""Installing a Debian package a test or a script needs, when this machine allows it.

Used by scripts/ensure_chromium.py, ensure_promtool.py and screenshots.py: Playwright and
friends cannot download their own binaries here, Debian's apt can. Only as root with apt-get;
the caller says what happens otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess


def can_install() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(*packages: str, recommends: bool = True) -> bool:
    """`apt-get install` the packages (after `apt-get update`); True when apt succeeded."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    options = [] if recommends else ["--no-install-recommends"]
    return (
        subprocess.run(["apt-get", "install", "-y", "-qq", *options, *packages], check=False, env=env).returncode == 0
    )
