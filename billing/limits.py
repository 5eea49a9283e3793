"""The one limits service: emails this period, project count, AI spend this period.

Counts come from the usage ledger (public schema), never from tenant tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from organizations.models import Organization


@dataclass(frozen=True)
class ProcessingDecision:
    allowed: bool  # False → the email is held, with `reason`
    reason: str = ""
    provider_override: str | None = None  # e.g. "rules" when the AI budget is used up


def processing_decision(organization: Organization) -> ProcessingDecision:
    """May this organization's next email be processed now, and with which provider?"""
    # Placeholder until billing lands (issue #6): always allowed.
    return ProcessingDecision(allowed=True)


def project_creation_allowed(organization: Organization, *, current_count: int) -> bool:
    """Whether one more project fits the plan (the caller counts its open projects)."""
    return True
