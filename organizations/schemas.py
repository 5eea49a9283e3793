"""Typed wrappers over django-tenants' connection methods (the stubs know only Django's wrapper)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection


def use_public_schema() -> None:
    connection.set_schema_to_public()  # type: ignore[attr-defined]


def use_tenant(organization: Any) -> None:
    connection.set_tenant(organization)  # type: ignore[attr-defined]


def current_schema() -> str:
    return str(connection.schema_name)  # type: ignore[attr-defined]


@contextmanager
def public_schema() -> Iterator[None]:
    """Run a block on the public schema and restore the previous tenant afterwards."""
    from django_tenants.utils import schema_context

    with schema_context("public"):
        yield


@contextmanager
def storage_schema(schema_name: str) -> Iterator[None]:
    """The organization's schema for the files saved in the block, without costing the next
    query a round trip.

    TenantFileSystemStorage picks its folder from the connection's schema, so the schema is
    switched, but only in Python: django-tenants sends `SET search_path` when a cursor is next
    opened, and forgets on every switch that the server's path is already set. When no query
    ran in the block (storage only writes files), the server's path never changed, so what
    django-tenants knew before the block is still true and is put back.
    """
    from django_tenants.utils import schema_context

    known_path = getattr(connection, "search_path_set_schemas", None)
    with schema_context(schema_name):
        yield
        untouched = getattr(connection, "search_path_set_schemas", None) is None
    if untouched:
        connection.search_path_set_schemas = known_path  # type: ignore[attr-defined]
