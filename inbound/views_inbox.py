"""The inbox: every received email with its processing state and project (members move it to another
project from its row), and (for admins) the deliveries inbound refused.

It lives in inbound, not events, because it reads inbound's delivery log beside events' mail;
its re-process actions are events' (events/views_emails.py). config/urls_tenant.py mounts it at
/inbox/ as `events:inbox`, with the rest of /inbox/.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse

from config.htmx import render_page
from events.ai_batches import batch_rows_mark, inbox_batches
from events.models import NEEDS_ATTENTION_STATES, PENDING_STATES, Email, EmailState, HoldCause
from events.views_emails import REPROCESS_ROW_STATES
from events.views_filing import INBOX_ROW_FIELDS, can_file, filing_menu, just_filed
from inbound.forms_inbox import InboxFilterForm
from inbound.selectors import held_for_review, refused_rows
from inbound.selectors_inbox import inbox_emails, inbox_has_newer, inbox_projects
from organizations.access import WorkspaceRequest, request_organization, workspace_view
from organizations.models import Role

PAGE_SIZE = 50
# While no row of the page is in flight, the page asks this often whether mail has arrived: one
# indexed query, answered 204 (nothing to swap) until something has (static/js/app.js skips the
# ask while the tab is hidden).
ARRIVALS_EVERY = "15s"
REFUSED_SHOWN = 20
HELD_SHOWN = 20


@workspace_view()
def inbox(request: WorkspaceRequest) -> HttpResponse:
    organization = request_organization(request)
    filters = InboxFilterForm(request.GET).values()
    state = filters["state"]
    emails = inbox_emails(Email.objects.select_related("project").only(*INBOX_ROW_FIELDS), **filters)
    cause = request.GET.get("cause", "")
    if cause and cause in HoldCause.values:
        emails = emails.filter(hold_cause=cause)
    after = _row_id(request.GET.get("after", ""))
    if after is not None and request.htmx and not inbox_has_newer(emails, after=after):
        # The arrival check of a page with nothing in flight: nothing new, nothing to swap.
        return HttpResponse(status=204)
    page = Paginator(emails.order_by("-received_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    is_admin = request.membership.has_role(Role.ADMIN)
    batches = inbox_batches(organization)
    batch_rows_mark(rows, batches)
    context = {
        "page": page,
        "emails": rows,
        "state": state,
        "filters": filters,
        "filtered": any(filters.values()),
        # The links of the state tabs and pager keep the other filters; the live rows ask again
        # with the same ones.
        "query": _query(request, drop=("page", "after")),
        "state_query": _query(request, drop=("page", "after", "state", "cause")),
        "live_query": _query(request, drop=("after",)),
        # The arrival check's mark: the first row's id (0 for an empty inbox); later pages have none.
        "newest": (rows[0].pk if rows else 0) if page.number == 1 else None,
        "arrivals_every": ARRIVALS_EVERY,
        "reprocess_states": REPROCESS_ROW_STATES,
        "cause": cause,
        "pending": any(email.state in PENDING_STATES for email in rows),
        # A Message Batch takes minutes to hours: its rows are asked about every 30 s, not 3 s.
        "refresh": "3s"
        if any(email.state in PENDING_STATES and email.state != EmailState.BATCHED for email in rows)
        else "30s",
        "batches": batches,
        "can_reprocess": is_admin,
        "can_file": can_file(request),
        "here": request.get_full_path(),
        **filing_menu(request),
    }
    if not request.htmx:
        counts = dict(Email.objects.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
        context["states"] = [(choice, label, counts.get(choice, 0)) for choice, label in EmailState.choices]
        context["total"] = sum(counts.values())
        context["projects"] = inbox_projects()
        context["just_filed"] = just_filed(request)
        context["needs_attention"] = sum(counts.get(s, 0) for s in NEEDS_ATTENTION_STATES)
        context["refused"] = refused_rows(organization, limit=REFUSED_SHOWN) if is_admin else []
        context["refused_kept"] = [d for d in context["refused"] if d.kept and d.brought_in_at is None]
        context["keep_days"] = settings.INBOUND_REFUSED_KEEP_DAYS
        # Mail an admin must judge (held for review), with what each delivery's verdicts were.
        context["review_held"] = held_for_review(organization, limit=HELD_SHOWN) if is_admin else []
        context["hold_causes"] = [(value, label) for value, label in HoldCause.choices if value]
    # The filter form swaps the whole result (rows and pager); a poll only the rows.
    partial = "results" if request.htmx.target == "inbox-results" else "rows"
    return render_page(request, "events/inbox.html", context, partial=partial)


def _row_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _query(request: HttpRequest, *, drop: tuple[str, ...]) -> str:
    """The request's query string without `drop`, for links that change only those."""
    params = request.GET.copy()
    for name in drop:
        params.pop(name, None)
    return params.urlencode()
