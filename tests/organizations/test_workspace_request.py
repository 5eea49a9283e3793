"""Every workspace view takes a `WorkspaceRequest`: the type says what `workspace_view` has checked
(tenant, member, membership, htmx), so no view reads those through `type: ignore` or a cast."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from organizations.access import WorkspaceRequest


def _views(patterns: list[URLPattern | URLResolver]) -> Iterator[Callable[..., Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry.url_patterns)
        elif hasattr(entry.callback, "workspace_roles"):
            yield entry.callback


def test_every_workspace_view_takes_a_workspace_request() -> None:
    views = list(_views(get_resolver("config.urls_tenant").url_patterns))
    assert len(views) > 40  # the walk reached the apps' URLs
    wrong = []
    for view in views:
        function = inspect.unwrap(view)
        first = next(iter(inspect.signature(function).parameters))
        if typing.get_type_hints(function).get(first) is not WorkspaceRequest:
            wrong.append(f"{function.__module__}.{function.__qualname__}")
    assert wrong == []
