from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from events.models import Email
from organizations.access import workspace_view


@workspace_view()
def inbox(request: HttpRequest) -> HttpResponse:
    emails = Email.objects.select_related("project").only(
        "code", "subject", "from_address", "from_name", "received_at", "state", "project__name", "project__code"
    )[:100]
    return render(request, "events/inbox.html", {"emails": emails})
