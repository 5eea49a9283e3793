"""config.settings plus bench/scale_app as a tenant app: `migrate_schemas` then has one small
new migration to roll out over every organization (bench/tenants_scale.py)."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, TENANT_APPS

TENANT_APPS = [*TENANT_APPS, "bench.scale_app"]
INSTALLED_APPS = [*INSTALLED_APPS, "bench.scale_app"]
