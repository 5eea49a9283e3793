"""Reads of the inbox (inbound/views_inbox.py): the filtered mail, and whether mail newer than a
page's first row has arrived. Every read is a fixed number of queries, whatever the mail."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from events.models import Email, EmailState
from events.selectors_search import search_query, search_terms
from inbound.forms_inbox import NO_PROJECT
from projects.models import Project


def inbox_projects() -> list[Project]:
    """The projects the filter offers: every one not merged away (a completed project's old mail
    is still in the inbox), by name. One query."""
    return list(Project.objects.filter(merged_into__isnull=True).only("pk", "code", "name").order_by("name"))


def sender_filter(sender: str) -> Q:
    """An address matches itself (any case); anything else is a domain, so "harbour.example"
    (or "@harbour.example") finds everyone who writes from it, subdomains included."""
    sender = sender.strip().lower()
    if "@" in sender.lstrip("@"):
        return Q(from_address__iexact=sender)
    domain = sender.lstrip("@")
    return Q(from_address__iendswith=f"@{domain}") | Q(from_address__iendswith=f".{domain}")


def inbox_emails(
    emails: QuerySet[Email], *, state: str = "", project: str = "", sender: str = "", q: str = ""
) -> QuerySet[Email]:
    """`emails` narrowed by the inbox's filters: state, project (a code, or NO_PROJECT), sender
    (address or domain) and words, which use the full-text search's stored vector
    (events.selectors_search: subject, sender, text; every word as a prefix). Newest first."""
    if state in EmailState.values:
        emails = emails.filter(state=state)
    if project == NO_PROJECT:
        emails = emails.filter(project__isnull=True)
    elif project:
        emails = emails.filter(project__code=project)
    if sender:
        emails = emails.filter(sender_filter(sender))
    terms = search_terms(q)
    if terms:
        emails = emails.filter(search=search_query(terms))
    return emails.order_by("-received_at", "-id")


def inbox_has_newer(emails: QuerySet[Email], *, after: int) -> bool:
    """Whether any of these (filtered) emails arrived after the row `after` (ids grow with
    arrival). One indexed query: what the inbox's arrival check costs while nothing is in flight."""
    return emails.filter(pk__gt=after).exists()
