"""Secret-token iCalendar feeds that calendar apps subscribe to (no session: the token is the key).

The WorkspaceAccessMiddleware lets /feeds/ through for anyone; these views check the shared
tokens in constant time (a member's own by its unique index), and an empty token (never created
or revoked) matches nothing.
"""

from __future__ import annotations

import secrets

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from events.exports import export_ics
from events.models import Event
from organizations.access import request_organization
from organizations.models import Organization
from organizations.selectors import member_feed_token_is
from projects.models import Project


def _check(expected: str, given: str) -> None:
    if not expected or not secrets.compare_digest(expected.encode(), given.encode()):
        raise Http404("No such feed")


def _ics(body: bytes, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{name}.ics"'
    # A feed is personal to whoever holds the link: never cache it in shared caches.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def _is_member_feed(organization: Organization, token: str) -> bool:
    # A member's own feed (Membership.feed_token): gone with the membership or the account.
    return member_feed_token_is(organization=organization, token=token)


@require_GET
def organization_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Every project's events, for the organization's shared address or a member's own."""
    organization = request_organization(request)
    shared = bool(organization.feed_token) and secrets.compare_digest(organization.feed_token.encode(), token.encode())
    if not shared and not _is_member_feed(organization, token):
        raise Http404("No such feed")

    def link(event: Event) -> str:
        return organization.absolute_url(reverse("projects:timeline", args=[event.project.code]))

    return _ics(export_ics(calendar_name=organization.name, link=link), organization.slug)


@require_GET
def project_feed(request: HttpRequest, code: str, token: str) -> HttpResponse:
    organization = request_organization(request)
    project = Project.objects.filter(code=code, merged_into__isnull=True).first()
    _check(project.feed_token if project is not None else "", token)
    assert project is not None
    url = organization.absolute_url(reverse("projects:timeline", args=[project.code]))
    body = export_ics(calendar_name=f"{project.name} · {organization.name}", project=project, link=lambda _: url)
    return _ics(body, project.slug)
