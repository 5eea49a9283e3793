"""Structured logs: one JSON object per line with the schema name and the request id.

`LOG_FORMAT=json` (the default outside DEBUG) selects JsonFormatter in settings.LOGGING. The
schema name comes from django-tenants' TenantContextFilter, the request id from
RequestIdFilter (set by ops.middleware.RequestIdMiddleware; "-" outside a request, e.g. in
workers).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from config.security import RedactingFilter
from ops.request_id import request_id

# Path segments that are credentials: invitation, hand-off and password-reset links and calendar
# feeds. Whoever reads a log must not be able to join a workspace or subscribe to its calendar.
# Slashes may come percent-encoded (a `?next=%2Finvite%2F…` query).
_SEP = r"(?:/|%2[fF])"
_SEGMENT = r"(?:[^/?#\s\"'&%<>]|%(?!2[fF]|3[fF]|26|23))+"
TOKEN_PATH_RE = re.compile(
    rf"({_SEP}(?:invite|handoff|accounts{_SEP}password{_SEP}reset{_SEP}key"
    rf"|feeds(?:{_SEP}projects{_SEP}[0-9a-fA-F-]{{36}})?){_SEP})({_SEGMENT})"
)
REDACTED = "[redacted]"


def _redacted(match: re.Match[str]) -> str:
    suffix = ".ics" if match.group(2).endswith(".ics") else ""
    return f"{match.group(1)}{REDACTED}{suffix}"


def redact_token_paths(text: str) -> str:
    """`/invite/Zx9…/` → `/invite/[redacted]/`, `/feeds/k2…ics` → `/feeds/[redacted].ics`."""
    return TOKEN_PATH_RE.sub(_redacted, text)


class RedactTokensFilter(RedactingFilter):
    """No token path segment reaches a log handler (Django's "Not Found: /feeds/<token>.ics" included)."""

    redact = staticmethod(redact_token_paths)


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
                if isinstance(value, int | float | bool | None):
                    entry[key] = value
                else:
                    # Extras such as django.request's `request` (its repr carries the path).
                    entry[key] = redact_token_paths(value if isinstance(value, str) else repr(value))
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = redact_token_paths(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)
