"""One helper for every app's django-q2 schedules: rows found by name, created or updated."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django_q.models import Schedule


def schedules_update_or_create(specs: Iterable[dict[str, Any]]) -> list[Schedule]:
    """Each spec is a Schedule's fields with its unique `name`; running it again changes nothing."""
    result = []
    for spec in specs:
        fields = {key: value for key, value in spec.items() if key != "name"}
        schedule, _ = Schedule.objects.update_or_create(name=spec["name"], defaults=fields)
        result.append(schedule)
    return result
