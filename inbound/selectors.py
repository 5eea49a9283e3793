"""Reads of the mail that waits for an admin: held for review (events.models.REVIEW_HOLD_CAUSES) and
refused by the sender policy with the message kept (inbound.kept)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Func, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from events.models import REVIEW_HOLD_CAUSES, Email, EmailState
from inbound.kept import keep_cutoff
from inbound.models import Delivery, RefusalCause, Verdict
from organizations.access import for_organization
from organizations.models import Organization

REFUSED_VERDICTS = (Verdict.REJECTED, Verdict.IGNORED, Verdict.INVALID)


@dataclass(frozen=True)
class Attention:
    held: int  # held for review: a sender not authenticated, a mail loop
    refused: int  # refused by the sender policy, kept, not brought in

    @property
    def total(self) -> int:
        return self.held + self.refused


def refused_waiting(organization: Organization, *, since: datetime | None = None) -> QuerySet[Delivery]:
    """Refused deliveries whose message is kept for an admin to bring in (newest first)."""
    rows = for_organization(Delivery.objects.all(), organization).filter(
        verdict=Verdict.REJECTED, cause=RefusalCause.SENDER_POLICY, created_at__gte=since or keep_cutoff()
    )
    return rows.exclude(kept="").filter(brought_in_at__isnull=True).order_by("-created_at")


def _count(queryset: QuerySet) -> Subquery:  # type: ignore[type-arg]
    counted = queryset.order_by().annotate(one=Value(1)).values("one").annotate(n=Func(F("pk"), function="COUNT"))
    return Subquery(counted.values("n")[:1], output_field=IntegerField())


def attention_count(organization: Organization) -> Attention:
    """Both counts in one query (two scalar subqueries: the tenant's emails, the public delivery log)."""
    held = Email.objects.filter(state=EmailState.HELD, hold_cause__in=REVIEW_HOLD_CAUSES)
    refused = refused_waiting(organization)
    row = (
        Organization.objects.filter(pk=organization.pk)
        .annotate(held_n=Coalesce(_count(held), 0), refused_n=Coalesce(_count(refused), 0))
        .values_list("held_n", "refused_n")
        .first()
    )
    held_n, refused_n = row if row is not None else (0, 0)
    return Attention(held=int(held_n), refused=int(refused_n))


def refused_rows(organization: Organization, *, limit: int) -> list[Delivery]:
    """The inbox's refused list: deliveries addressed to the organization that were not stored."""
    return list(
        for_organization(Delivery.objects.all(), organization)
        .filter(verdict__in=REFUSED_VERDICTS, email_code=None)
        .only(
            "created_at",
            "sender",
            "recipient",
            "subject",
            "verdict",
            "reason",
            "provider",
            "authentication",
            "authentication_detail",
            "spf",
            "dkim",
            "dmarc",
            "cause",
            "kept",
            "brought_in_at",
        )
        .order_by("-created_at")[:limit]
    )


def held_for_review(organization: Organization, *, limit: int) -> list[Email]:
    """Mail held for an admin's judgement, newest first, each with `.delivery` (its SPF, DKIM and
    DMARC words) when the delivery log has it: two queries. Current (tenant) schema."""
    rows = list(
        Email.objects.filter(state=EmailState.HELD, hold_cause__in=REVIEW_HOLD_CAUSES)
        .only("code", "from_address", "from_name", "subject", "received_at", "state", "state_reason", "hold_cause")
        .order_by("-received_at", "-id")[:limit]
    )
    verdicts = (
        {
            d.email_code: d
            for d in for_organization(Delivery.objects.all(), organization)
            .filter(email_code__in=[e.code for e in rows])
            .only(*_VERDICT_FIELDS)
        }
        if rows
        else {}
    )
    for email in rows:
        email.delivery = verdicts.get(email.code)  # type: ignore[attr-defined]
        email.from_domain = email.from_address.rpartition("@")[2]  # type: ignore[attr-defined]
    return rows


_VERDICT_FIELDS = ("email_code", "spf", "dkim", "dmarc", "authentication", "authentication_detail")
