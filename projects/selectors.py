from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from projects.models import Project


def project_list() -> QuerySet[Project]:
    return Project.objects.filter(merged_into__isnull=True).annotate(
        event_count=Count("events", filter=Q(events__deleted_at__isnull=True))
    )
