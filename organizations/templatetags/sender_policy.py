"""`{% accepted_senders organization %}`: whose mail the workspace accepts under its sender policy,
for the empty states of the inbox and the projects list (a new workspace must not promise
"forward, CC or BCC" while it refuses a client's reply-all)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from organizations.models import Membership, Organization, Role, SenderPolicy
from organizations.selectors import allowed_senders

register = template.Library()

SHOWN = 5


@register.inclusion_tag("organizations/_accepted_senders.html")
def accepted_senders(organization: Organization, membership: Membership | None = None) -> dict[str, Any]:
    """One query, for the allow-list policy only (empty states render once per page)."""
    patterns: list[str] = []
    if organization.sender_policy == SenderPolicy.ALLOWLIST:
        patterns = list(allowed_senders(organization=organization).values_list("pattern", flat=True)[: SHOWN + 1])
    return {
        "policy": organization.sender_policy,
        "policy_label": organization.get_sender_policy_display(),  # type: ignore[attr-defined]
        "patterns": patterns[:SHOWN],
        "more": len(patterns) > SHOWN,
        "keep_days": settings.INBOUND_REFUSED_KEEP_DAYS,
        # Only admins may change the policy: the link is not shown to anyone else.
        "can_change": membership is not None and membership.has_role(Role.ADMIN),
    }
