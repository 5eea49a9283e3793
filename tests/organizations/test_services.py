"""The team's services apply the team's rules to the member acting (`actor`), whoever calls them:
admins manage the team, only an owner touches the owner role, nobody removes themselves, and an
organization always keeps an owner."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from organizations.models import Invitation, Membership, Role
from organizations.services import (
    NotAllowed,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    membership_remove,
    membership_set_role,
    roles_assignable,
)


@pytest.fixture
def team(world: Any) -> dict[str, Membership]:
    return {m.role: m for m in Membership.objects.filter(organization=world.org).select_related("user")}


@pytest.fixture
def pending(world: Any) -> Invitation:
    invitation, _ = invitation_create(organization=world.org, email="new@example.com", role=Role.MEMBER, send=False)
    return invitation


def _role_of(membership: Membership) -> str:
    return Membership.objects.get(pk=membership.pk).role


def test_not_allowed_is_a_permission_denied() -> None:
    assert issubclass(NotAllowed, PermissionDenied)


def test_an_admin_changes_a_members_role(team: dict[str, Membership]) -> None:
    membership_set_role(membership=team["member"], role=Role.VIEWER, actor=team["admin"])
    assert _role_of(team["member"]) == Role.VIEWER


def test_an_admin_cannot_make_someone_owner(team: dict[str, Membership]) -> None:
    with pytest.raises(NotAllowed, match="Only an owner can make someone owner"):
        membership_set_role(membership=team["member"], role=Role.OWNER, actor=team["admin"])
    assert _role_of(team["member"]) == Role.MEMBER


def test_an_admin_cannot_demote_an_owner(team: dict[str, Membership]) -> None:
    with pytest.raises(NotAllowed, match="change an owner's role"):
        membership_set_role(membership=team["owner"], role=Role.ADMIN, actor=team["admin"])
    assert _role_of(team["owner"]) == Role.OWNER


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_below_admin_nobody_changes_roles(team: dict[str, Membership], role: str) -> None:
    with pytest.raises(NotAllowed, match="Only an admin or owner"):
        membership_set_role(membership=team["viewer"], role=Role.MEMBER, actor=team[role])
    assert _role_of(team["viewer"]) == Role.VIEWER


def test_the_last_owner_cannot_be_demoted_even_by_themselves(team: dict[str, Membership]) -> None:
    with pytest.raises(ValidationError, match="always keeps one owner"):
        membership_set_role(membership=team["owner"], role=Role.ADMIN, actor=team["owner"])
    assert _role_of(team["owner"]) == Role.OWNER


def test_an_owner_makes_another_owner_and_steps_down(team: dict[str, Membership]) -> None:
    membership_set_role(membership=team["admin"], role=Role.OWNER, actor=team["owner"])
    membership_set_role(membership=team["owner"], role=Role.ADMIN, actor=team["owner"])
    assert (_role_of(team["admin"]), _role_of(team["owner"])) == (Role.OWNER, Role.ADMIN)


def test_an_owner_of_another_organization_changes_nothing_here(world: Any, team: dict[str, Membership]) -> None:
    outsider = Membership.objects.get(user=world.outsider)
    with pytest.raises(NotAllowed):
        membership_set_role(membership=team["member"], role=Role.ADMIN, actor=outsider)
    with pytest.raises(NotAllowed):
        membership_remove(membership=team["member"], actor=outsider)
    assert _role_of(team["member"]) == Role.MEMBER


def test_an_admin_removes_a_member(team: dict[str, Membership]) -> None:
    membership_remove(membership=team["member"], actor=team["admin"])
    assert not Membership.objects.filter(pk=team["member"].pk).exists()


def test_an_admin_cannot_remove_an_owner(team: dict[str, Membership]) -> None:
    with pytest.raises(NotAllowed, match="Only an owner can remove an owner"):
        membership_remove(membership=team["owner"], actor=team["admin"])
    assert Membership.objects.filter(pk=team["owner"].pk).exists()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_nobody_removes_themselves(team: dict[str, Membership], role: str) -> None:
    with pytest.raises(NotAllowed, match="cannot remove yourself"):
        membership_remove(membership=team[role], actor=team[role])
    assert Membership.objects.filter(pk=team[role].pk).exists()


def test_a_member_removes_nobody(team: dict[str, Membership]) -> None:
    with pytest.raises(NotAllowed, match="Only an admin or owner"):
        membership_remove(membership=team["viewer"], actor=team["member"])


def test_only_an_owner_invites_an_owner(world: Any, team: dict[str, Membership]) -> None:
    with pytest.raises(NotAllowed, match="Only an owner can invite an owner"):
        invitation_create(organization=world.org, email="boss@example.com", role=Role.OWNER, actor=team["admin"])
    invitation, _ = invitation_create(
        organization=world.org, email="boss@example.com", role=Role.OWNER, actor=team["owner"], send=False
    )
    assert invitation.invited_by == world.owner


def test_a_member_invites_nobody(world: Any, team: dict[str, Membership]) -> None:
    with pytest.raises(NotAllowed):
        invitation_create(organization=world.org, email="x@example.com", role=Role.VIEWER, actor=team["member"])
    assert not Invitation.objects.filter(email="x@example.com").exists()


def test_the_platform_invites_an_owner_without_an_actor(world: Any) -> None:
    invitation, _ = invitation_create(organization=world.org, email="first@example.com", role=Role.OWNER, send=False)
    assert invitation.invited_by is None


def test_resending_and_revoking_an_invitation_need_an_admin(team: dict[str, Membership], pending: Invitation) -> None:
    with pytest.raises(NotAllowed):
        invitation_resend(invitation=pending, actor=team["member"])
    with pytest.raises(NotAllowed):
        invitation_revoke(invitation=pending, actor=team["member"])
    invitation_revoke(invitation=pending, actor=team["admin"])
    pending.refresh_from_db()
    assert pending.revoked_at is not None


def test_only_owners_may_hand_out_the_owner_role(team: dict[str, Membership]) -> None:
    assert Role.OWNER in dict(roles_assignable(actor=team["owner"]))
    assert Role.OWNER not in dict(roles_assignable(actor=team["admin"]))
