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
