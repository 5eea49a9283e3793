"""Roles in the interface: every page shows each role exactly the links and buttons it can use.

Every page is opened as owner, admin, member and viewer. Each workspace link on it must open
for that role (it is followed: no 403), and each form must post to a view whose guard lets the
role write (organizations.access.workspace_view). Then, the other way round, the links and
buttons a role can use are there: Billing, Settings → API keys, team management, the sender
policy, merge, re-process, and edit or delete on events.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import resolve, reverse

from events.models import EmailState
from organizations.access import _rank
from organizations.models import AllowedSender
from organizations.services import invitation_create
from tests.factories import EmailFactory, EventFactory, ProjectFactory

ROLES = ["owner", "admin", "member", "viewer"]
# Opened by the links but not pages of this workspace's roles (sign-out, downloads by token).
NOT_ROLE_PAGES = ("/accounts/", "/static/", "/feeds/", "/api/v1/")


class Targets(HTMLParser):
    """The workspace links (href) and form posts (action) of a page."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.links: set[str] = set()
        self.posts: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            url = urlsplit(a["href"] or "")
            if not url.netloc and url.path.startswith("/"):
                self.links.add(url.path + (f"?{url.query}" if url.query else ""))
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self.posts.add(urlsplit(a.get("action") or self.page_path).path or self.page_path)
        for name in ("hx-post",):
            if a.get(name):
                self.posts.add(urlsplit(a[name] or "").path)


@pytest.fixture
def workspace(world: Any) -> dict[str, str]:
    project = ProjectFactory(name="Kitchen refit")
    ProjectFactory(name="Garden studio")  # something to merge into
    EventFactory(project=project, title="Site meeting")
    email = EmailFactory(project=project, state=EmailState.FAILED, subject="Kitchen refit invoice")
    EmailFactory(project=None, filing="unfiled", subject="Menu boards?")
    AllowedSender.objects.create(organization=world.org, pattern="@client.example")
    invitation_create(organization=world.org, email="pending@example.com", role="member", invited_by=None, send=False)
    return {
        "agenda": reverse("agenda:index"),
        "projects": reverse("projects:list"),
        "timeline": reverse("projects:timeline", args=[project.code]),
        "project settings": reverse("projects:edit", args=[project.code]),
        "inbox": reverse("events:inbox"),
        "email": reverse("events:email", args=[email.code]),
        "unfiled": reverse("events:unfiled"),
        "search": reverse("search:index") + "?q=kitchen",
        "team": reverse("workspace:team"),
        "settings": reverse("workspace:settings"),
        "api keys": reverse("api_keys:list"),
        "billing": reverse("billing:overview"),
        "usage": reverse("usage:overview"),
    }


def _write_role(path: str) -> str | None:
    """The role a POST to `path` needs, from its view's guard (None: no workspace guard)."""
    roles = getattr(resolve(path).func, "workspace_roles", None)
    if roles is None:
        return None
    role, write_role = roles
    return max((role, write_role or role), key=_rank)


@pytest.mark.parametrize("role", ROLES)
def test_every_link_and_button_a_role_sees_is_one_it_can_use(world: Any, client_as: Any, workspace: Any, role: str):
    client = client_as(world.user(role))
    opened, followed = 0, {}
    for name, path in workspace.items():
        response = client.get(path)
        if response.status_code == 403:
            continue  # a page the role cannot open: the next test checks no link leads there
        assert response.status_code == 200, (name, response.status_code)
        opened += 1
        targets = Targets(path.split("?")[0])
        targets.feed(response.content.decode())
        for link in targets.links - set(followed):
            if link.startswith(NOT_ROLE_PAGES):
                continue
            followed[link] = client.get(link).status_code
            assert followed[link] != 403, f"{role} sees a link to {link} on the {name} page, which answers 403"
        for action in targets.posts:
            needed = _write_role(action)
            assert needed is None or _rank(role) >= _rank(needed), (
                f"{role} sees a form posting to {action} on the {name} page, which needs {needed}"
            )
    assert opened >= 10 and followed


EXPECTED = {
    # what: (page, the URL or marker that shows it, the roles that see it)
    "Billing in the nav": ("agenda", 'href="/billing/"', {"owner", "admin"}),
    "Settings → API keys": ("settings", 'href="/settings/api-keys/"', {"owner", "admin"}),
    "the sender policy form": ("settings", 'name="sender_policy"', {"owner", "admin"}),
    "removing an allowed sender": ("settings", "/settings/senders/", {"owner", "admin"}),
    "inviting someone": ("team", "Send invitation", {"owner", "admin"}),
    "resending an invitation": ("team", "/resend/", {"owner", "admin"}),
    "re-process on the email page": ("email", "/reprocess/", {"owner", "admin"}),
    "editing an event": ("timeline", "/edit/", {"owner", "admin", "member"}),
    "deleting an event": ("timeline", "/delete/", {"owner", "admin", "member"}),
    "the project's settings": ("timeline", "Settings &amp; feed", {"owner", "admin", "member"}),
    "merging a project": ("project settings", "/merge/", {"owner", "admin", "member"}),
    "a new project": ("projects", 'href="/projects/new/"', {"owner", "admin", "member"}),
    "filing an unfiled email": ("unfiled", "/file/", {"owner", "admin", "member"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("what", list(EXPECTED))
def test_each_role_sees_the_links_and_buttons_it_can_use(
    world: Any, client_as: Any, workspace: Any, role: str, what: str
):
    page, marker, roles = EXPECTED[what]
    response = client_as(world.user(role)).get(workspace[page])

    if role not in roles and response.status_code == 403:
        return  # the whole page is not theirs (and the first test shows no link leads there)
    assert response.status_code == 200
    shown = marker in response.content.decode()
    assert shown == (role in roles), f"{what}: shown to {role}" if shown else f"{what}: hidden from {role}"


def test_a_role_never_sees_billing_in_the_nav_on_any_page(world: Any, client_as: Any, workspace: Any):
    for role in ("member", "viewer"):
        client = client_as(world.user(role))
        for name, path in workspace.items():
            body = client.get(path).content.decode()
            assert 'href="/billing/"' not in body, (role, name)
