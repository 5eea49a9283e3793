"""Make Debian's Chromium available for the browser tests, when this machine allows it.

Playwright cannot download its own browser here, so the tests drive /usr/bin/chromium.
As root with apt we install it; otherwise the browser tests skip with a printed reason
(tests/browser/conftest.py), except in CI, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    if os.path.exists(CHROMIUM):
        return 0
    if os.environ.get("PROJECTR_SKIP_BROWSER_INSTALL"):
        print("chromium: not installed and PROJECTR_SKIP_BROWSER_INSTALL is set; browser tests will skip")
        return 0
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not is_root or shutil.which("apt-get") is None:
        print("chromium: not installed and this user cannot apt-get it; browser tests will skip")
        return 0
    print("chromium: installing Debian's chromium for the browser tests …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    result = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env)
    if result.returncode != 0 or not os.path.exists(CHROMIUM):
        print("chromium: installation failed; browser tests will skip (and fail in CI)")
        return 1 if os.environ.get("CI") else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
