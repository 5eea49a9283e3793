from __future__ import annotations

import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from organizations.models import Invitation, Membership
from organizations.services import invitation_create
from tests.worker import run_queued_tasks

PASSWORD = "a-long-and-unusual-passphrase"


def invite(world, email="new.person@example.com", role="member"):
    return invitation_create(organization=world.org, email=email, role=role, invited_by=world.admin, send=False)


def test_an_invited_person_sets_a_password_and_joins(world, workspace_client):
    _, token = invite(world)
    page = workspace_client.get(f"/invite/{token}/")
    assert page.status_code == 200
    assert "new.person@example.com" in page.content.decode()
    response = workspace_client.post(f"/invite/{token}/", {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert Membership.objects.get(user=user, organization=world.org).role == "member"
    assert EmailAddress.objects.get(user=user).verified
    assert workspace_client.session[SESSION_KEY] == str(user.pk)


def test_an_invitation_link_works_once(world, workspace_client):
    _, token = invite(world)
    workspace_client.post(f"/invite/{token}/", {"password1": PASSWORD, "password2": PASSWORD})
    again = Client(HTTP_HOST=world.org.host).get(f"/invite/{token}/")
    assert again.status_code == 404
    assert "already used" in again.content.decode()


def test_an_expired_invitation_is_refused(world, workspace_client):
    invitation, token = invite(world)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timezone.timedelta(minutes=1))
    response = workspace_client.get(f"/invite/{token}/")
    assert response.status_code == 404
    assert "expired" in response.content.decode()


def test_an_invitation_only_works_for_its_own_address(world, client_as):
    _, token = invite(world, email="someone.else@example.com")
    response = client_as(world.outsider).post(f"/invite/{token}/")
    assert response.status_code == 403
    assert not Membership.objects.filter(user=world.outsider, organization=world.org).exists()


def test_an_invitation_of_another_workspace_is_not_valid_here(world, other_org):
    _, token = invitation_create(
        organization=other_org, email="x@example.com", role="member", invited_by=None, send=False
    )
    response = Client(HTTP_HOST=world.org.host).get(f"/invite/{token}/")
    assert response.status_code == 404


def test_a_signed_in_person_with_the_invited_address_joins_with_one_click(world, client_as):
    from tests.conftest import make_user

    user = make_user("existing@example.com")
    _, token = invite(world, email="existing@example.com", role="viewer")
    response = client_as(user).post(f"/invite/{token}/")
    assert response.status_code == 302
    assert Membership.objects.get(user=user, organization=world.org).role == "viewer"


def test_a_weak_password_is_refused(world, workspace_client):
    _, token = invite(world)
    response = workspace_client.post(f"/invite/{token}/", {"password1": "12345678", "password2": "12345678"})
    assert response.status_code == 200
    assert not User.objects.filter(email="new.person@example.com").exists()


def test_admins_invite_from_the_team_page_and_the_mail_links_to_the_workspace(
    world, client_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(world.admin).post("/team/", {"email": "Pat@Example.com", "role": "viewer"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=world.org, email="pat@example.com")
    assert invitation.role == "viewer"
    run_queued_tasks("organizations.tasks.")
    assert len(mail.outbox) == 1
    assert world.org.absolute_url("/invite/") in mail.outbox[0].body
    token = mail.outbox[0].body.split("/invite/")[1].split("/")[0]
    assert Client(HTTP_HOST=world.org.host).get(f"/invite/{token}/").status_code == 200


def test_resending_an_invitation_replaces_its_link(world, client_as, django_capture_on_commit_callbacks):
    invitation, token = invite(world)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(world.admin).post(f"/team/invitations/{invitation.code}/resend/")
    assert response.status_code == 302
    run_queued_tasks("organizations.tasks.")
    assert len(mail.outbox) == 1
    assert Client(HTTP_HOST=world.org.host).get(f"/invite/{token}/").status_code == 404


def test_a_revoked_invitation_no_longer_works(world, client_as):
    invitation, token = invite(world)
    client_as(world.admin).post(f"/team/invitations/{invitation.code}/revoke/")
    assert Client(HTTP_HOST=world.org.host).get(f"/invite/{token}/").status_code == 404


def test_invitations_expire_after_a_week(world):
    with time_machine.travel(timezone.now(), tick=False):
        invitation, _ = invite(world)
        assert (invitation.expires_at - timezone.now()).days == 7
