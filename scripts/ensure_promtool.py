"""Make Debian's promtool (package prometheus) available for tests/ops/test_alerts.py.

The alert rules are checked and unit-tested by `promtool check rules` and `promtool test rules`.
As root with apt we install the package (its daemon is not started: the tests need only the
binary); otherwise the alert tests fail and say how to install it, since nothing else can check
the rules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

PROMTOOL = "/usr/bin/promtool"


def main() -> int:
    if shutil.which("promtool") or os.path.exists(PROMTOOL):
        return 0
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not is_root or shutil.which("apt-get") is None:
        print("promtool: not installed and this user cannot apt-get it; tests/ops/test_alerts.py will fail")
        return 0
    print("promtool: installing Debian's prometheus package for the alert rule tests …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    # Without recommends: 12 packages instead of 35 (the rest serve the daemon's web console).
    command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus"]
    result = subprocess.run(command, check=False, env=env)
    if result.returncode != 0 or not os.path.exists(PROMTOOL):
        print("promtool: installation failed; tests/ops/test_alerts.py will fail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
