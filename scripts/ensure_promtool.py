"""Make Debian's promtool (package prometheus) available for tests/ops/test_alerts.py.

The alert rules are checked and unit-tested by `promtool check rules` and `promtool test rules`.
As root with apt we install the package (its daemon is not started: the tests need only the
binary); otherwise the alert tests fail and say how to install it, since nothing else can check
the rules.
"""

from __future__ import annotations

import os
import shutil
import sys

from debian_packages import apt_install, can_install

PROMTOOL = "/usr/bin/promtool"


def main() -> int:
    if shutil.which("promtool") or os.path.exists(PROMTOOL):
        return 0
    if not can_install():
        print("promtool: not installed and this user cannot apt-get it; tests/ops/test_alerts.py will fail")
        return 0
    print("promtool: installing Debian's prometheus package for the alert rule tests …", flush=True)
    # Without recommends: 12 packages instead of 35 (the rest serve the daemon's web console).
    installed = apt_install("prometheus", recommends=False)
    if not installed or not os.path.exists(PROMTOOL):
        print("promtool: installation failed; tests/ops/test_alerts.py will fail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
