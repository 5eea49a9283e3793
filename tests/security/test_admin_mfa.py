"""The Django admin: public host only, staff only, and only with TOTP turned on."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret


@pytest.fixture
def staff(world, settings):
    settings.ADMIN_REQUIRE_MFA = True
    world.admin.is_staff = True
    world.admin.is_superuser = True
    world.admin.save(update_fields=["is_staff", "is_superuser"])
    return world.admin


def test_staff_without_mfa_are_sent_to_set_it_up(staff, public_client):
    public_client.force_login(staff)
    response = public_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert public_client.get("/admin/organizations/organization/").status_code == 302


def test_staff_with_totp_reach_the_admin(staff, public_client):
    TOTP.activate(staff, generate_totp_secret())
    public_client.force_login(staff)
    assert public_client.get("/admin/").status_code == 200


def test_the_admin_login_form_is_replaced_by_the_sign_in_with_mfa(staff, public_client):
    response = public_client.get("/admin/login/?next=/admin/organizations/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Forganizations%2F"
    # Posting credentials to the admin's own form does not sign anyone in.
    response = public_client.post("/admin/login/", {"username": staff.email, "password": "whatever"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_offsite_next_is_dropped(staff, public_client):
    response = public_client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_the_admin_does_not_exist_on_workspace_hosts(staff, client_as):
    TOTP.activate(staff, generate_totp_secret())
    assert client_as(staff).get("/admin/").status_code == 404
    assert client_as(staff).get("/admin/login/").status_code == 404


def test_non_staff_never_reach_the_admin(world, settings, public_client):
    settings.ADMIN_REQUIRE_MFA = True
    TOTP.activate(world.owner, generate_totp_secret())
    public_client.force_login(world.owner)
    response = public_client.get("/admin/")
    assert response.status_code == 302 and "login" in response["Location"]
