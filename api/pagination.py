"""Opaque keyset cursors. No OFFSET and no COUNT: every page costs the same queries, and rows
inserted while a client pages never shift or repeat what it has not read yet."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.db.models import QuerySet
from ninja import Query

from api.errors import ApiFieldError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def limit_param() -> Any:
    return Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")


def cursor_param() -> Any:
    return Query("", description="`next_cursor` of the previous page; empty for the first page.")


def bad_cursor() -> ApiFieldError:
    return ApiFieldError("cursor", "not a cursor this API gave out; start again without it.")


def pk_cursor_encode(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}|{pk}".encode()).decode().rstrip("=")


def pk_cursor_decode(kind: str, cursor: str) -> int | None:
    """The id after which the next page starts; None without a cursor; 400 for a tampered one."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found_kind, pk = raw.split("|")
        if found_kind != kind:
            raise ValueError(found_kind)
        return int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_cursor() from None


def pk_page(queryset: QuerySet[Any], *, kind: str, limit: int) -> dict[str, Any]:
    """One page of an already filtered and pk-ordered queryset, with the cursor of the next one."""
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": pk_cursor_encode(kind, rows[-1].pk) if more else None}
