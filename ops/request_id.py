"""The current request's id, for log lines (a context variable: safe with threads and async)."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
