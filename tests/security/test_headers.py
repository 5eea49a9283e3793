"""Every response carries the browser-side protections: CSP without inline scripts, HSTS,
frame and referrer policies; cookies are Secure and HttpOnly."""

from __future__ import annotations

from django.test import Client

from tests.conftest import make_user

PASSWORD = "a-long-and-unusual-passphrase"


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def test_workspace_pages_send_a_csp_that_blocks_inline_scripts(world, client_as):
    response = client_as(world.owner).get("/projects/")
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    # The sandboxed email frame (srcdoc) is allowed; nothing there may run script.
    assert "'self'" in policy["frame-src"]


def test_the_email_frame_stays_sandboxed_without_scripts(world, client_as):
    from tests.factories import EmailFactory

    email = EmailFactory(html="<p onclick='x()'>Hi</p><script>alert(1)</script>")
    body = client_as(world.owner).get(f"/inbox/{email.code}/").content.decode()
    assert 'sandbox=""' in body
    assert "<script>alert(1)" not in body
    assert "onclick" not in body


def test_pages_carry_no_inline_script(world, client_as):
    for path in ("/", "/projects/", "/inbox/", "/team/", "/settings/", "/usage/", "/billing/"):
        body = client_as(world.owner).get(path, follow=True).content.decode()
        for chunk in body.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), (path, chunk[:80])
        assert " onclick=" not in body and " onload=" not in body


def test_the_public_host_sends_the_same_headers(public_client):
    response = public_client.get("/accounts/login/", secure=True)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_https_responses_carry_hsts_with_subdomains(world, client_as):
    response = client_as(world.owner).get("/projects/", secure=True)
    hsts = response["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts


def test_session_and_csrf_cookies_are_secure_and_http_only(db, public):
    make_user("cookie@testorg.test", password=PASSWORD)
    client = Client(HTTP_HOST="localhost")
    csrf = client.get("/accounts/login/", secure=True).cookies["csrftoken"]
    assert csrf["secure"]
    response = client.post("/accounts/login/", {"login": "cookie@testorg.test", "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"
    assert not session["domain"]  # host-only: each workspace host keeps its own session
