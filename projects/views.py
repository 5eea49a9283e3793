from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from organizations.access import workspace_view
from projects.selectors import project_list


@workspace_view()
def project_index(request: HttpRequest) -> HttpResponse:
    return render(request, "projects/list.html", {"projects": project_list()})
