"""Make Debian's Chromium available for the browser tests, when this machine allows it.

Playwright cannot download its own browser here, so the tests drive /usr/bin/chromium.
As root with apt we install it; otherwise the browser tests skip with a printed reason
(tests/browser/conftest.py), except in CI, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import sys

from debian_packages import apt_install, can_install

CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    if os.path.exists(CHROMIUM):
        return 0
    if os.environ.get("PROJECTR_SKIP_BROWSER_INSTALL"):
        print("chromium: not installed and PROJECTR_SKIP_BROWSER_INSTALL is set; browser tests will skip")
        return 0
    if not can_install():
        print("chromium: not installed and this user cannot apt-get it; browser tests will skip")
        return 0
    print("chromium: installing Debian's chromium for the browser tests …", flush=True)
    installed = apt_install("chromium")
    if not installed or not os.path.exists(CHROMIUM):
        print("chromium: installation failed; browser tests will skip (and fail in CI)")
        return 1 if os.environ.get("CI") else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
