"""The team page in a real browser: role changes and the digest switch swap the section in
place (htmx) without reloading the page, and a viewer gets no management controls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from organizations.models import Invitation, Membership, Role
from tests.browser.conftest import EMAIL_DOMAIN, BrowserWorld, delete_users, make_user, screenshot, session_cookie

pytestmark = pytest.mark.browser


@pytest.fixture
def newcomer(world: BrowserWorld, db_blocker: Any) -> Iterator[Membership]:
    with db_blocker.unblock():
        user = make_user(f"newcomer@{EMAIL_DOMAIN}")
        membership = Membership.objects.create(user=user, organization=world.org, role=Role.MEMBER)
    yield membership
    with db_blocker.unblock():
        delete_users(pk=user.pk)


def _mark_window(page: Any) -> None:
    page.evaluate("window.__noReload = 'still here'")


def _window_survived(page: Any) -> bool:
    return bool(page.evaluate("window.__noReload === 'still here'"))


def test_it_changes_a_role_in_place_without_reloading_the_page(
    page: Any, world: BrowserWorld, sign_in: Any, newcomer: Membership, db_blocker: Any
) -> None:
    sign_in(world.user("admin"))
    page.goto(world.url("/team/"))
    screenshot(page, "team")
    _mark_window(page)

    page.get_by_label(f"Role of {newcomer.user.email}").select_option("viewer")

    page.get_by_text(f"{newcomer.user.email} is now viewer.").wait_for()
    assert _window_survived(page)
    with db_blocker.unblock():
        newcomer.refresh_from_db()
    assert newcomer.role == Role.VIEWER


def test_it_removes_a_member_after_confirming(
    page: Any, world: BrowserWorld, sign_in: Any, newcomer: Membership, db_blocker: Any, recorder: Any
) -> None:
    sign_in(world.user("admin"))
    page.goto(world.url("/team/"))
    _mark_window(page)

    page.locator(f"#member-{newcomer.pk}").get_by_role("button", name="Remove").click()

    page.get_by_text(f"{newcomer.user.email} was removed.").wait_for()
    assert recorder.dialogs == [f"confirm: Remove {newcomer.user.email} from {world.org.name}?"]
    assert _window_survived(page)
    with db_blocker.unblock():
        assert not Membership.objects.filter(pk=newcomer.pk).exists()


def test_it_invites_someone_and_lists_the_pending_invitation(
    page: Any, world: BrowserWorld, sign_in: Any, db_blocker: Any
) -> None:
    email = f"invitee@{EMAIL_DOMAIN}"
    sign_in(world.user("owner"))
    page.goto(world.url("/team/"))
    _mark_window(page)

    page.get_by_label("Email address to invite").fill(email)
    page.get_by_label("Role of the invited person").select_option("viewer")
    page.get_by_role("button", name="Send invitation").click()

    page.locator("#team").get_by_text(f"Invitation sent to {email}.").wait_for()
    assert page.locator(f"tr:has-text('{email}')").is_visible()
    assert _window_survived(page)
    with db_blocker.unblock():
        assert Invitation.objects.filter(organization=world.org, email=email, role=Role.VIEWER).exists()
        Invitation.objects.filter(organization=world.org, email=email).delete()


def test_a_viewer_sees_the_team_without_controls_and_can_turn_off_their_digest(
    page: Any, world: BrowserWorld, sign_in: Any, db_blocker: Any
) -> None:
    viewer = world.user("viewer")
    sign_in(viewer)
    page.goto(world.url("/team/"))
    screenshot(page, "team_viewer")

    assert page.get_by_role("button", name="Remove").count() == 0
    assert page.get_by_role("button", name="Send invitation").count() == 0
    assert page.locator("select[name=role]").count() == 0

    _mark_window(page)
    page.get_by_role("switch").uncheck()
    page.get_by_text("You will no longer get the daily digest.").wait_for()
    assert _window_survived(page)
    with db_blocker.unblock():
        membership = Membership.objects.get(user=viewer, organization=world.org)
        assert membership.digest_enabled is False
        Membership.objects.filter(pk=membership.pk).update(digest_enabled=True)


def test_without_javascript_the_role_form_posts_and_redirects(
    browser: Any, world: BrowserWorld, newcomer: Membership, db_blocker: Any
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        context.add_cookies([session_cookie(world, world.user("admin"), db_blocker)])
        page = context.new_page()
        page.goto(world.url("/team/"))

        row = page.locator(f"#member-{newcomer.pk}")
        row.get_by_label(f"Role of {newcomer.user.email}").select_option("admin")
        row.get_by_role("button", name="Save").click()

        page.get_by_text(f"{newcomer.user.email} is now admin.").wait_for()
        assert page.url == world.url("/team/")
    finally:
        context.close()
    with db_blocker.unblock():
        newcomer.refresh_from_db()
    assert newcomer.role == Role.ADMIN
