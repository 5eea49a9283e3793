"""The baseline server of bench/webhook.py: our settings, but the public URLconf mounts only
anymail's own Postmark inbound view, and the inbound signal has a no-op receiver instead of ours."""

from config.settings import *  # noqa: F403

PUBLIC_SCHEMA_URLCONF = "bench.webhook_baseline_urls"
ROOT_URLCONF = "bench.webhook_baseline_urls"
