"""The agenda, the workspace's landing page: overdue, today, this week and next week across the
open projects, filtered by project, kind and person. The filters are a GET form; with htmx a
change swaps the results in place and pushes the address."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from config.htmx import render_page
from events.forms_agenda import AgendaFilterForm
from events.selectors_agenda import Agenda, agenda
from organizations.access import WorkspaceRequest, workspace_view
from projects.selectors import project_filing_choices


@workspace_view()
@require_safe
def agenda_page(request: WorkspaceRequest) -> HttpResponse:
    filter_form = AgendaFilterForm(request.GET)
    filters = filter_form.to_filter()
    items = agenda(filters=filters, user=request.user)
    _link(items)
    context = {
        "agenda": items,
        "filters": filters,
        "filter_form": filter_form,
        "projects": project_filing_choices(),  # read by the full page only, not by the htmx fragment
    }
    return render_page(request, "events/agenda.html", context, partial="results")


def _url_for(name: str) -> Callable[[object], str]:
    """The URL of `name` for a code, reversed once: hundreds of rows would each pay for a
    {% url %} (a third of the page's time at 600 items, bench/pages.py)."""
    blank = str(uuid.UUID(int=0))
    pattern = reverse(name, args=[blank])
    return lambda code: pattern.replace(blank, str(code))


def _link(items: Agenda) -> None:
    """Each item's link to its place on the project's timeline and to the sentence in its email."""
    timeline, email = _url_for("projects:timeline"), _url_for("events:email")
    for section in items.sections:
        for day in section.days:
            for event in day.events:
                event.timeline_url = timeline(event.project.code)  # type: ignore[attr-defined]
                event.source_url = (  # type: ignore[attr-defined]
                    f"{email(event.email.code)}?highlight={event.code}#evidence" if event.email else ""
                )
