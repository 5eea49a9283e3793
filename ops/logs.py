"""Structured logs: one JSON object per line with the schema name and the request id.

`LOG_FORMAT=json` (the default outside DEBUG) selects JsonFormatter in settings.LOGGING. The
schema name comes from django-tenants' TenantContextFilter, the request id from
RequestIdFilter (set by ops.middleware.RequestIdMiddleware; "-" outside a request, e.g. in
workers).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from ops.context import request_id

# Attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "schema_name", "domain_url", "request_id"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "schema": getattr(record, "schema_name", "") or "",
            "request_id": getattr(record, "request_id", "") or "-",
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)
