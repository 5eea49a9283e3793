"""bench/sql_paths.py's settings: ours, plus two connections to the same database for the stock
paths it measures (Django's server-side binding with psycopg's preparation, and Django's default
client-side binding)."""

from copy import deepcopy

from config.settings import *  # noqa: F403
from config.settings import DATABASES

_server = deepcopy(DATABASES["default"])
_server["OPTIONS"] = {**_server.get("OPTIONS", {}), "server_side_binding": True, "prepare_threshold": 0}
_client = deepcopy(DATABASES["default"])
_client["OPTIONS"] = {**_client.get("OPTIONS", {}), "prepare_threshold": None}
DATABASES = {**DATABASES, "server_binding": _server, "client_binding": _client}
