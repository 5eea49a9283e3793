"""bench/pages.py's settings: ours, plus a bench-only admin site on workspace hosts (bench/pages_urls.py)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pages_urls"
