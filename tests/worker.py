"""Running what the web process left for the worker, in tests: the tasks in django-q2's database
broker are taken out and called here, as the cluster would call them."""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string
from django_q.models import OrmQ
from django_q.signing import SignedPackage


def run_queued_tasks(prefix: str) -> list[str]:
    """Call (and take off the queue) every queued task whose function starts with `prefix`; their names."""
    ran = []
    for row in OrmQ.objects.order_by("pk"):
        package: dict[str, Any] = SignedPackage.loads(row.payload)
        if not str(package["func"]).startswith(prefix):
            continue
        row.delete()
        import_string(package["func"])(*package["args"], **package["kwargs"])
        ran.append(package["func"])
    return ran
