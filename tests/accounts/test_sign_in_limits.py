"""Sign-in failures are limited per address and per client IP separately, and strangers'
failures from the same IP never lock out a sign-in that proves more than a password."""

from __future__ import annotations

import secrets

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client

from tests.conftest import make_user

PASSWORD = "a-long-and-unusual-passphrase"
OFFICE_IP = "203.0.113.7"
NETWORK_REFUSAL = "Too many failed sign-ins from your network"
ADDRESS_REFUSAL = "Too many failed login attempts"


@pytest.fixture(autouse=True)
def fresh_counters(db, settings):
    settings.SIGN_IN_FAILURES_PER_IP = 10
    # The limits are under test, not the hashing: a fast hasher keeps 20 sign-ins quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


def office_client(host: str = "localhost") -> Client:
    return Client(HTTP_HOST=host, REMOTE_ADDR=OFFICE_IP)


def sign_in(client: Client, email: str, password: str) -> str:
    response = client.post("/accounts/login/", {"login": email, "password": password})
    return response["Location"] if response.status_code == 302 else response.content.decode()


def strangers_fail_from_the_office(times: int = 12) -> None:
    for _ in range(times):
        outcome = sign_in(office_client(), f"{secrets.token_hex(4)}@random.test", "guess-guess-guess")
        assert "/accounts/" not in outcome or "Location" not in outcome


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_a_right_password_and_totp_pass_after_strangers_failed_from_the_same_ip(world, public):
    person = make_user("colleague@testorg.test", password=PASSWORD)
    secret = generate_totp_secret()
    TOTP.activate(person, secret)
    strangers_fail_from_the_office()

    client = office_client()
    assert sign_in(client, person.email, PASSWORD) == "/accounts/2fa/authenticate/"
    response = client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(person.pk)


def test_a_right_password_passes_from_a_browser_that_signed_in_before(world, public):
    person = make_user("regular@testorg.test", password=PASSWORD)
    browser = office_client()
    assert sign_in(browser, person.email, PASSWORD) == "/"
    browser.post("/accounts/logout/")
    strangers_fail_from_the_office()

    assert sign_in(browser, person.email, PASSWORD) == "/"
    assert browser.session[SESSION_KEY] == str(person.pk)


def test_from_a_new_browser_without_totp_right_and_wrong_passwords_get_the_same_answer(world, public):
    person = make_user("newcomer@testorg.test", password=PASSWORD)
    strangers_fail_from_the_office()

    right = sign_in(office_client(), person.email, PASSWORD)
    wrong = sign_in(office_client(), person.email, "not-the-password")
    assert NETWORK_REFUSAL in right and NETWORK_REFUSAL in wrong
    # Elsewhere (another IP) the same person signs in at once.
    assert sign_in(Client(HTTP_HOST="localhost", REMOTE_ADDR="198.51.100.4"), person.email, PASSWORD) == "/"


def test_failures_below_the_ip_limit_refuse_nobody(world, public):
    person = make_user("early@testorg.test", password=PASSWORD)
    strangers_fail_from_the_office(times=9)
    assert sign_in(office_client(), person.email, PASSWORD) == "/"


def test_one_address_is_limited_on_its_own_across_ips_and_hosts(world, public, other_org):
    target = make_user("target@testorg.test", password=PASSWORD)
    hosts = [world.org.host, other_org.host, "localhost"]
    for attempt in range(5):
        client = Client(HTTP_HOST=hosts[attempt % 3], REMOTE_ADDR=f"192.0.2.{attempt + 1}")
        assert ADDRESS_REFUSAL not in sign_in(client, target.email, f"wrong-{attempt}")
    refused = sign_in(Client(HTTP_HOST="localhost", REMOTE_ADDR="192.0.2.99"), target.email, PASSWORD)
    assert ADDRESS_REFUSAL in refused
    # Another address from the very same IPs is untouched by them.
    other = make_user("bystander@testorg.test", password=PASSWORD)
    assert sign_in(Client(HTTP_HOST="localhost", REMOTE_ADDR="192.0.2.1"), other.email, PASSWORD) == "/"


def test_totp_guesses_are_limited_per_person(world, public):
    person = make_user("guarded@testorg.test", password=PASSWORD)
    secret = generate_totp_secret()
    TOTP.activate(person, secret)
    client = office_client()
    assert sign_in(client, person.email, PASSWORD) == "/accounts/2fa/authenticate/"
    wrong = str((int(current_code(secret)) + 1) % 1_000_000).zfill(6)
    pages = [client.post("/accounts/2fa/authenticate/", {"code": wrong}).content.decode() for _ in range(6)]
    assert "Too many" in pages[-1]
    assert SESSION_KEY not in client.session
