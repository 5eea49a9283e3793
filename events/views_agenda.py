"""The agenda, the workspace's landing page: overdue, today, this week and next week across the
open projects, filtered by project, kind and person. The filters are a GET form; with htmx a
change swaps the results in place and pushes the address."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from events.forms_agenda import AgendaFilterForm
from events.selectors_agenda import agenda
from organizations.access import workspace_view
from projects.selectors import project_filing_choices


@workspace_view()
@require_safe
def agenda_page(request: HttpRequest) -> HttpResponse:
    filter_form = AgendaFilterForm(request.GET)
    filters = filter_form.to_filter()
    context = {
        "agenda": agenda(filters=filters, user=request.user),  # type: ignore[arg-type]  # signed in: workspace_view
        "filters": filters,
        "filter_form": filter_form,
        "projects": project_filing_choices(),  # read by the full page only, not by the htmx fragment
    }
    template = "events/agenda.html#results" if getattr(request, "htmx", False) else "events/agenda.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
