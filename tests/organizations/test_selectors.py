"""organizations.selectors: the reads of members, invitations and allowed senders, always for one
organization."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from organizations.models import AllowedSender, Membership, Organization, Role
from organizations.selectors import (
    allowed_senders,
    invitations_pending,
    member_address_is,
    member_feed_token_is,
    team_members,
    workspace_membership,
    workspace_memberships,
)
from organizations.services import invitation_create


def test_a_user_sees_only_the_active_workspaces_they_belong_to(world: Any, other_org: Organization) -> None:
    assert [m.organization for m in workspace_memberships(user=world.owner)] == [world.org]
    assert workspace_membership(user=world.owner, slug=world.org.slug) is not None
    assert workspace_membership(user=world.owner, slug=other_org.slug) is None
    Organization.objects.filter(pk=world.org.pk).update(is_active=False)
    assert list(workspace_memberships(user=world.owner)) == []


def test_the_team_is_this_organizations_members_by_address(world: Any) -> None:
    emails = [m.user.email for m in team_members(organization=world.org)]
    assert emails == sorted(emails)
    assert world.outsider.email not in emails
    assert len(emails) == 4


def test_pending_invitations_leave_out_used_revoked_and_already_member_addresses(world: Any) -> None:
    waiting, _ = invitation_create(organization=world.org, email="new@example.com", role=Role.MEMBER, send=False)
    revoked, _ = invitation_create(organization=world.org, email="gone@example.com", role=Role.MEMBER, send=False)
    revoked.revoked_at = timezone.now()
    revoked.save(update_fields=["revoked_at"])
    invitation_create(organization=world.org, email="Joined@Example.com", role=Role.MEMBER, send=False)
    user = world.member.__class__.objects.create_user(email="joined@example.com")
    Membership.objects.create(user=user, organization=world.org, role=Role.MEMBER)
    assert list(invitations_pending(organization=world.org)) == [waiting]


def test_a_member_address_matches_in_any_case_and_only_in_its_organization(world: Any, other_org: Organization) -> None:
    assert member_address_is(organization=world.org, address="MEMBER@testorg.test")
    assert not member_address_is(organization=other_org, address="member@testorg.test")
    assert not member_address_is(organization=world.org, address="someone@testorg.test")


def test_a_feed_token_counts_only_for_an_active_member(world: Any) -> None:
    Membership.objects.filter(user=world.member).update(feed_token="secret-token")
    assert member_feed_token_is(organization=world.org, token="secret-token")
    world.member.is_active = False
    world.member.save(update_fields=["is_active"])
    assert not member_feed_token_is(organization=world.org, token="secret-token")


def test_allowed_senders_are_this_organizations(world: Any, other_org: Organization) -> None:
    AllowedSender.objects.create(organization=world.org, pattern="@client.example")
    AllowedSender.objects.create(organization=other_org, pattern="@theirs.example")
    assert [s.pattern for s in allowed_senders(organization=world.org)] == ["@client.example"]
