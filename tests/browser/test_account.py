"""Account pages in a real browser: password change, email addresses, and two-factor set-up
(QR code, key, recovery codes) followed by a sign-in that asks for the second factor."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from accounts.models import User
from organizations.models import Membership, Role
from tests.browser.conftest import EMAIL_DOMAIN, PASSWORD, BrowserWorld, delete_users, make_user, screenshot

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def person(world: BrowserWorld, db_blocker: Any, request: Any) -> Iterator[User]:
    """A member of their own, so changing their password or 2FA affects no other test."""
    email = f"{request.node.name[:40].replace('_', '-')}@{EMAIL_DOMAIN}".lower()
    with db_blocker.unblock():
        delete_users(email=email)
        user = make_user(email)
        Membership.objects.create(user=user, organization=world.org, role=Role.MEMBER)
    yield user
    with db_blocker.unblock():
        delete_users(pk=user.pk)


def sign_in_with_form(page: Any, world: BrowserWorld, email: str, password: str = PASSWORD) -> None:
    page.goto(world.url("/accounts/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    # allauth accepts only the current 30 s window: never compute a code about to expire.
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_it_changes_the_password(page: Any, world: BrowserWorld, sign_in: Any, person: User, db_blocker: Any) -> None:
    sign_in(person)
    page.goto(world.url("/accounts/password/change/"))
    screenshot(page, "account_password")

    page.get_by_label("Current Password").fill(PASSWORD)
    page.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New Password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    page.get_by_text("Password successfully changed.").wait_for()
    with db_blocker.unblock():
        person.refresh_from_db()
        assert person.check_password(NEW_PASSWORD)


def test_it_refuses_a_weak_new_password_and_says_why(
    page: Any, world: BrowserWorld, sign_in: Any, person: User
) -> None:
    sign_in(person)
    page.goto(world.url("/accounts/password/change/"))

    page.get_by_label("Current Password").fill(PASSWORD)
    page.get_by_label("New Password", exact=True).fill("password")
    page.get_by_label("New Password (again)").fill("password")
    page.get_by_role("button", name="Change password").click()

    page.locator("small.error").first.wait_for()
    assert page.get_by_label("New Password", exact=True).get_attribute("aria-invalid") == "true"


def test_it_adds_an_email_address_as_unverified(
    page: Any, world: BrowserWorld, sign_in: Any, person: User, db_blocker: Any
) -> None:
    second = person.email.replace("@", "+second@")
    sign_in(person)
    page.goto(world.url("/accounts/email/"))

    page.get_by_role("textbox", name="Email").fill(second)
    page.get_by_role("button", name="Add address").click()

    row = page.locator("label.email-choice", has_text=second)
    row.wait_for()
    assert "Unverified" in row.inner_text()
    assert "Primary" in page.locator("label.email-choice", has_text=person.email).first.inner_text()
    screenshot(page, "account_email")
    with db_blocker.unblock():
        assert EmailAddress.objects.filter(user=person, email=second, verified=False).exists()


def test_it_sets_up_an_authenticator_app_and_then_asks_for_a_code_at_sign_in(
    browser: Any, page: Any, world: BrowserWorld, person: User, db_blocker: Any
) -> None:
    sign_in_with_form(page, world, person.email)
    page.wait_for_url(re.compile(r"/agenda/"))
    page.goto(world.url("/accounts/2fa/"))
    screenshot(page, "account_2fa")

    page.get_by_role("button", name="Set up an authenticator app").click()
    if "/reauthenticate/" in page.url:
        screenshot(page, "account_reauthenticate")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/2fa/totp/activate/"))
    assert page.locator(".qr-image svg").is_visible()
    screenshot(page, "account_totp_setup")

    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    page.wait_for_url(re.compile(r"/2fa/recovery-codes/"))
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "account_recovery_codes")
    with db_blocker.unblock():
        totp = Authenticator.objects.get(user=person, type=Authenticator.Type.TOTP)
        # Stored encrypted at rest (accounts.adapters.MFAAdapter), never as the key we were shown.
        assert secret not in str(totp.data)

    fresh = browser.new_context()
    try:
        again = fresh.new_page()
        sign_in_with_form(again, world, person.email)
        again.get_by_role("heading", name="Enter your code").wait_for()
        screenshot(again, "sign_in_code")
        again.get_by_label("Code").fill(codes[0])
        again.get_by_role("button", name="Sign in", exact=True).click()
        again.wait_for_url(re.compile(r"/agenda/"))
    finally:
        fresh.close()


def confirm_if_asked(page: Any, recovery_code: str) -> None:
    """allauth asks to confirm sensitive changes: by password, or by a second-factor code."""
    if "/reauthenticate/" not in page.url:
        return
    if page.get_by_label("Password").count():
        page.get_by_label("Password").fill(PASSWORD)
    else:
        page.get_by_label("Code").fill(recovery_code)
    page.get_by_role("button", name="Confirm").click()


def test_it_renews_recovery_codes_and_turns_two_factor_off(
    page: Any, world: BrowserWorld, person: User, db_blocker: Any
) -> None:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    with db_blocker.unblock():
        TOTP.activate(person, generate_totp_secret())
        old_codes = RecoveryCodes.activate(person).get_unused_codes()
    sign_in_with_form(page, world, person.email)
    page.get_by_label("Code").fill(old_codes[0])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r"/agenda/"))

    page.goto(world.url("/accounts/2fa/"))
    page.get_by_role("button", name="New codes").click()
    confirm_if_asked(page, old_codes[1])
    page.get_by_role("heading", name="Make new recovery codes?").wait_for()
    page.get_by_role("button", name="Make new codes").click()
    page.wait_for_url(re.compile(r"/2fa/recovery-codes/$"))
    new_codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)

    page.goto(world.url("/accounts/2fa/"))
    page.get_by_role("button", name="Turn off").click()
    confirm_if_asked(page, new_codes[0])
    page.get_by_role("heading", name="Turn off the authenticator app?").wait_for()
    page.get_by_role("button", name="Turn off").click()

    page.wait_for_url(re.compile(r"/2fa/$"))
    assert page.locator("#totp-heading + .pill").inner_text() == "Off"
    with db_blocker.unblock():
        assert not Authenticator.objects.filter(user=person, type=Authenticator.Type.TOTP).exists()


def test_it_sends_a_password_reset_link(page: Any, world: BrowserWorld, person: User) -> None:
    page.goto(world.url("/accounts/login/"))
    page.get_by_role("link", name="Forgot your password?").click()
    screenshot(page, "password_reset")

    page.get_by_label("Email").fill(person.email)
    page.get_by_role("button", name="Send the link").click()

    page.get_by_role("heading", name="Check your email").wait_for()


def test_it_signs_out_after_asking(page: Any, world: BrowserWorld, sign_in: Any, person: User) -> None:
    sign_in(person)
    page.goto(world.url("/projects/"))

    page.locator("summary", has_text=person.email).click()
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()

    page.goto(world.url("/projects/"))
    assert "/accounts/login/" in page.url
