"""The team page and its actions: invitations, role changes, removal, the personal digest switch.

Each action works as a plain POST + redirect and, when htmx asks, answers with only the
refreshed #team section. An organization always keeps one owner, and only owners touch owners.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from organizations.models import Invitation, Membership, Role
from organizations.services import invitation_create, invitation_lookup
from tests.conftest import make_user
from tests.worker import run_queued_tasks

HTMX = {"HTTP_HX_REQUEST": "true"}
TEAM = "/team/"


def membership_of(world, role):
    return Membership.objects.get(organization=world.org, user=world.user(role))


def role_url(membership):
    return reverse("workspace:member_role", args=[membership.pk])


def remove_url(membership):
    return reverse("workspace:member_remove", args=[membership.pk])


@pytest.fixture
def pending(world):
    invitation, _ = invitation_create(
        organization=world.org, email="pending@example.com", role=Role.MEMBER, invited_by=world.owner, send=False
    )
    return invitation


# --- the page -------------------------------------------------------------------------------


def test_it_lists_members_and_pending_invitations_to_every_member(world, client_as, pending):
    response = client_as(world.viewer).get(TEAM)

    assert response.status_code == 200
    body = response.content.decode()
    for role in ("owner", "admin", "member", "viewer"):
        assert world.user(role).email in body
    assert "pending@example.com" in body
    assert world.outsider.email not in body


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_it_shows_no_management_controls_below_admin(world, client_as, pending, role):
    body = client_as(world.user(role)).get(TEAM).content.decode()

    assert "Send invitation" not in body
    assert 'name="role"' not in body
    assert ">Remove<" not in body
    assert ">Revoke<" not in body


def test_it_shows_admins_the_controls_but_not_for_the_only_owner(world, client_as):
    body = client_as(world.admin).get(TEAM).content.decode()
    owner = membership_of(world, "owner")

    assert "Send invitation" in body
    assert remove_url(membership_of(world, "member")) in body
    assert remove_url(owner) not in body
    assert role_url(owner) not in body
    assert "the only owner" in body


def test_it_offers_the_owner_role_only_to_owners(world, client_as):
    admin_page = client_as(world.admin).get(TEAM).content.decode()
    owner_page = client_as(world.owner).get(TEAM).content.decode()

    assert '<option value="owner"' not in admin_page
    assert '<option value="owner"' in owner_page


def test_it_answers_htmx_with_only_the_team_section(world, client_as):
    response = client_as(world.admin).get(TEAM, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="team"')
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


# --- invitations ----------------------------------------------------------------------------


def test_it_invites_someone_with_a_role_and_mails_the_link(world, client_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(world.admin).post(TEAM, {"email": "New.Person@Example.com", "role": "viewer"})

    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=world.org, email="new.person@example.com")
    assert invitation.role == Role.VIEWER
    assert invitation.invited_by == world.admin
    assert mail.outbox == []  # the request does not wait for the mail server: the worker sends it
    assert run_queued_tasks("organizations.tasks.") == ["organizations.tasks.invitation_send_task"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert world.org.absolute_url("/invite/") in mail.outbox[0].body


def test_it_answers_an_htmx_invitation_with_the_section_and_the_message(world, client_as):
    response = client_as(world.admin).post(TEAM, {"email": "htmx@example.com", "role": "member"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Invitation sent to htmx@example.com." in body
    assert "htmx@example.com</td>" in body


def test_it_shows_the_form_again_with_the_error_for_a_bad_address(world, client_as):
    response = client_as(world.admin).post(TEAM, {"email": "not-an-address", "role": "member"})

    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Invitation.objects.filter(organization=world.org, email="not-an-address").exists()


def test_it_does_not_invite_someone_who_is_already_a_member(world, client_as):
    response = client_as(world.admin).post(TEAM, {"email": world.viewer.email.upper(), "role": "admin"}, **HTMX)

    assert "is already a member of" in response.content.decode()
    assert not Invitation.objects.filter(organization=world.org, email__iexact=world.viewer.email).exists()


def test_an_invitation_whose_address_became_a_member_is_no_longer_listed(world, client_as):
    invitation_create(organization=world.org, email="joins@example.com", role=Role.MEMBER, invited_by=None, send=False)
    Membership.objects.create(organization=world.org, user=make_user("joins@example.com"), role=Role.MEMBER)

    body = client_as(world.owner).get(TEAM).content.decode()

    assert "joins@example.com</td>" not in body
    assert "joins@example.com" in body  # as a member


def test_it_refuses_an_owner_invitation_from_an_admin(world, client_as):
    response = client_as(world.admin).post(TEAM, {"email": "boss@example.com", "role": "owner"}, follow=True)

    assert "Only an owner can invite an owner." in response.content.decode()
    assert not Invitation.objects.filter(organization=world.org, email="boss@example.com").exists()


def test_an_owner_may_invite_another_owner(world, client_as):
    client_as(world.owner).post(TEAM, {"email": "boss@example.com", "role": "owner"})

    assert Invitation.objects.get(organization=world.org, email="boss@example.com").role == Role.OWNER


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_it_refuses_invitations_below_admin(world, client_as, role):
    response = client_as(world.user(role)).post(TEAM, {"email": "x@example.com", "role": "member"})

    assert response.status_code == 403
    assert not Invitation.objects.filter(organization=world.org, email="x@example.com").exists()


def test_it_resends_an_invitation_with_a_new_link_and_retires_the_old_one(
    world, client_as, django_capture_on_commit_callbacks
):
    invitation, old_token = invitation_create(
        organization=world.org, email="again@example.com", role=Role.MEMBER, invited_by=world.owner, send=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(world.admin).post(reverse("workspace:invitation_resend", args=[invitation.code]))

    assert response.status_code == 302
    with pytest.raises(Exception, match="not valid"):
        invitation_lookup(organization=world.org, token=old_token)  # at once, before the mail goes
    assert mail.outbox == []
    run_queued_tasks("organizations.tasks.")
    assert len(mail.outbox) == 1
    new_token = mail.outbox[0].body.split("/invite/")[1].split("/")[0]
    assert invitation_lookup(organization=world.org, token=new_token).pk == invitation.pk
    with pytest.raises(Exception, match="not valid"):
        invitation_lookup(organization=world.org, token=old_token)


def test_it_revokes_an_invitation(world, client_as, pending):
    response = client_as(world.admin).post(reverse("workspace:invitation_revoke", args=[pending.code]), **HTMX)

    pending.refresh_from_db()
    assert pending.revoked_at is not None
    assert "pending@example.com</td>" not in response.content.decode()


def test_it_does_not_touch_another_organizations_invitation(world, client_as, other_org):
    foreign, _ = invitation_create(
        organization=other_org, email="foreign@example.com", role=Role.MEMBER, invited_by=None, send=False
    )

    response = client_as(world.admin).post(reverse("workspace:invitation_revoke", args=[foreign.code]))

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


# --- roles ----------------------------------------------------------------------------------


def test_an_admin_changes_a_members_role(world, client_as):
    member = membership_of(world, "member")

    response = client_as(world.admin).post(role_url(member), {"role": "viewer"}, follow=True)

    member.refresh_from_db()
    assert member.role == Role.VIEWER
    assert f"{world.member.email} is now viewer." in response.content.decode()


def test_it_answers_an_htmx_role_change_with_the_refreshed_section(world, client_as):
    member = membership_of(world, "member")

    response = client_as(world.admin).post(role_url(member), {"role": "admin"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="team"')
    assert f"{world.member.email} is now admin." in body


def test_an_admin_cannot_make_someone_owner(world, client_as):
    member = membership_of(world, "member")

    response = client_as(world.admin).post(role_url(member), {"role": "owner"}, follow=True)

    member.refresh_from_db()
    assert member.role == Role.MEMBER
    assert "Only an owner can make someone owner" in response.content.decode()


def test_an_admin_cannot_demote_an_owner_even_with_a_second_owner(world, client_as):
    second = membership_of(world, "member")
    Membership.objects.filter(pk=second.pk).update(role=Role.OWNER)

    client_as(world.admin).post(role_url(second), {"role": "viewer"})

    second.refresh_from_db()
    assert second.role == Role.OWNER


def test_it_keeps_the_only_owner(world, client_as):
    owner = membership_of(world, "owner")

    response = client_as(world.owner).post(role_url(owner), {"role": "admin"}, follow=True)

    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    assert "always keeps one owner" in response.content.decode()


def test_an_owner_hands_over_and_steps_down(world, client_as):
    owner, admin = membership_of(world, "owner"), membership_of(world, "admin")
    client = client_as(world.owner)

    client.post(role_url(admin), {"role": "owner"})
    response = client.post(role_url(owner), {"role": "admin"}, **HTMX)

    owner.refresh_from_db()
    admin.refresh_from_db()
    assert (owner.role, admin.role) == (Role.ADMIN, Role.OWNER)
    # The refreshed section reflects the new role of the person who acted: no owner controls.
    assert role_url(admin) not in response.content.decode()


def test_it_refuses_an_unknown_role(world, client_as):
    member = membership_of(world, "member")

    client_as(world.admin).post(role_url(member), {"role": "emperor"})

    member.refresh_from_db()
    assert member.role == Role.MEMBER


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_it_refuses_role_changes_below_admin(world, client_as, role):
    target = membership_of(world, "viewer" if role == "member" else "member")

    assert client_as(world.user(role)).post(role_url(target), {"role": "admin"}).status_code == 403


def test_it_does_not_touch_another_organizations_member(world, client_as):
    foreign = Membership.objects.get(user=world.outsider)

    response = client_as(world.owner).post(role_url(foreign), {"role": "viewer"})

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.OWNER


# --- removal --------------------------------------------------------------------------------


def test_an_admin_removes_a_member(world, client_as):
    member = membership_of(world, "member")

    response = client_as(world.admin).post(remove_url(member), follow=True)

    assert not Membership.objects.filter(pk=member.pk).exists()
    assert f"{world.member.email} was removed." in response.content.decode()


def test_an_admin_cannot_remove_an_owner(world, client_as):
    second = make_user("second-owner@testorg.test")
    membership = Membership.objects.create(user=second, organization=world.org, role=Role.OWNER)

    client_as(world.admin).post(remove_url(membership))

    assert Membership.objects.filter(pk=membership.pk).exists()


def test_nobody_removes_themselves(world, client_as):
    admin = membership_of(world, "admin")

    response = client_as(world.admin).post(remove_url(admin), follow=True)

    assert Membership.objects.filter(pk=admin.pk).exists()
    assert "You cannot remove yourself" in response.content.decode()


# --- the digest switch ----------------------------------------------------------------------


DIGEST = "/accounts/digest/"


def test_a_viewer_turns_their_own_digest_off_and_on(world, client_as):
    client = client_as(world.viewer)
    viewer = membership_of(world, "viewer")

    client.post(DIGEST, {})
    viewer.refresh_from_db()
    assert viewer.digest_enabled is False

    client.post(DIGEST, {"digest_enabled": "on"})
    viewer.refresh_from_db()
    assert viewer.digest_enabled is True


def test_the_digest_switch_changes_nobody_elses_setting(world, client_as):
    client_as(world.admin).post(DIGEST, {})

    assert Membership.objects.filter(organization=world.org, digest_enabled=False).count() == 1
    assert membership_of(world, "admin").digest_enabled is False


def test_the_digest_switch_answers_htmx_with_the_section(world, client_as):
    response = client_as(world.member).post(DIGEST, {}, **HTMX)

    body = response.content.decode()
    assert "You will no longer get the daily digest." in body
    assert "checked" not in body.split('name="digest_enabled"')[1].split(">")[0]


def test_the_digest_switch_is_not_there_for_outsiders(world, client_as):
    response = client_as(world.outsider).post(DIGEST, {})

    assert response.status_code == 404
    assert Membership.objects.get(user=world.outsider).digest_enabled is True


def test_the_digest_switch_asks_anonymous_visitors_to_sign_in(world, workspace_client):
    response = workspace_client.post(DIGEST, {})

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_digest_switch_refuses_get(world, client_as):
    assert client_as(world.viewer).get(DIGEST).status_code == 405


def test_it_marks_expired_invitations_so_admins_resend_them(world, client_as, pending):
    Invitation.objects.filter(pk=pending.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))

    body = client_as(world.admin).get(TEAM).content.decode()

    assert "<strong>expired</strong>" in body
