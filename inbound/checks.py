"""Edge checks on a routed message: is it machine mail we ignore, may its sender post, is it a loop."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from config.sql import prepared_cursor, tenant_table
from events.ingest import ParsedEmail, ParsedHead, email_id_sql
from inbound.models import Delivery, Verdict
from inbound.routing import ascii_domain, normalize_address
from organizations.models import Organization, SenderPolicy
from organizations.selectors import allowed_senders, member_address_is

# Precedence values that mark bulk, list and auto-generated mail (RFC 2076, RFC 3834 §2).
IGNORED_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-response-suppress")
# Providers whose mail comes from files (backfills), not from a live webhook.
BACKFILL_PROVIDERS = ("eml", "mbox")


def ignore_reason(parsed: ParsedEmail | ParsedHead, *, envelope_sender: str | None, spam: bool = False) -> str:
    """Why this message is machine mail (or spam) we do not process, or '' for mail from a person.

    `envelope_sender` is None when it is unknown (files fed by commands): then only the
    headers are looked at. `spam` is the provider's verdict (SES spamVerdict, Postmark's
    X-Spam-Status).
    """
    if spam:
        return "Flagged as spam by the mail provider"
    auto_submitted = parsed.header("Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-submitted mail ({auto_submitted})"
    precedence = parsed.header("Precedence").strip().lower()
    if precedence in IGNORED_PRECEDENCE:
        return f"Bulk or list mail (Precedence: {precedence})"
    for name in AUTOREPLY_HEADERS:
        value = parsed.header(name).strip().lower()
        # X-Auto-Response-Suppress is sent by Exchange on auto-replies *and* on ordinary
        # meeting mail; only its "All"/"OOF" values mark an auto-reply.
        if value and (name != "x-auto-response-suppress" or value in {"all", "oof"}):
            return f"Auto-reply ({name})"
    if envelope_sender is not None and envelope_sender.strip() in {"", "<>"}:
        return "Bounce or notification (null return path)"
    if parsed.header("Return-Path").strip() == "<>":
        return "Bounce or notification (null return path)"
    content_type = parsed.header("Content-Type").lower()
    if content_type.startswith("multipart/report"):
        return "Delivery status notification"
    own_domain = ascii_domain(settings.OUTBOUND_MESSAGE_ID_DOMAIN)
    if parsed.message_id.rstrip(">").lower().endswith("@" + own_domain):
        return "Our own outgoing mail"
    return ""


class Standing(StrEnum):
    """Who the From address says the sender is, to the organization."""

    MEMBER = "member"  # a Membership user's email
    ALLOWED = "allowed"  # an AllowedSender address or @domain
    STRANGER = "stranger"


def sender_standing(organization: Organization, sender: str, *, allowlist: bool = True) -> Standing:
    """The From address's standing: one query for a member, two for anyone else (one without
    `allowlist`, when allowed senders do not matter)."""
    address = normalize_address(sender)
    if not address:
        return Standing.STRANGER
    if member_address_is(organization=organization, address=address):
        return Standing.MEMBER
    if not allowlist:
        return Standing.STRANGER
    domain = address.rpartition("@")[2]
    allowed = (
        allowed_senders(organization=organization)
        .annotate(lowered=Lower("pattern"))
        .filter(Q(lowered=address) | Q(lowered=f"@{domain}"))
        .exists()
    )
    return Standing.ALLOWED if allowed else Standing.STRANGER


def policy_allows(policy: str, standing: Standing) -> bool:
    if policy == SenderPolicy.ANYONE:
        return True
    if policy == SenderPolicy.ALLOWLIST:
        return standing in (Standing.MEMBER, Standing.ALLOWED)
    return standing == Standing.MEMBER


def sender_allowed(organization: Organization, sender: str) -> bool:
    """The organization's sender policy applied to the From address (its standing only; whether
    the From address is authenticated is inbound.services' question)."""
    if organization.sender_policy == SenderPolicy.ANYONE:
        return True
    address = normalize_address(sender)
    if not address:
        return False
    if organization.sender_policy != SenderPolicy.ALLOWLIST:
        return member_address_is(organization=organization, address=address)
    return policy_allows(organization.sender_policy, sender_standing(organization, address))


def loop_limit_reached(organization: Organization, sender: str) -> bool:
    """INBOUND_LOOP_LIMIT or more live messages from this sender within the window?"""
    reached, _ = _loop_check(organization, sender, email_id_of=None)
    return reached


def loop_limit_reached_and_email_id(organization: Organization, sender: str) -> tuple[bool, int]:
    """loop_limit_reached, and a new Email id of the organization (events.ingest.email_id_sql)
    in the same round trip: the webhook stores the message right after this check and names
    the email before it writes it.
    """
    reached, email_id = _loop_check(organization, sender, email_id_of=organization.schema_name)
    assert email_id is not None
    return reached, email_id


def _loop_check(organization: Organization, sender: str, *, email_id_of: str | None) -> tuple[bool, int | None]:
    """Hand-written SQL because it runs on every delivery: building the same query with the ORM
    costs three times as long as running it (bench/webhook.py), and prepared once per
    connection (config.sql.prepared_cursor), because planning it took longer than running it.
    It reads at most LIMIT rows (index delivery_org_sender), not every message of a sender who
    is looping right now. `email_id_of`: also take a new Email id of that schema.
    """
    limit = settings.INBOUND_LOOP_LIMIT
    since = timezone.now() - timedelta(seconds=settings.INBOUND_LOOP_WINDOW_SECONDS)
    table = tenant_table(Delivery, organization.schema_name)
    email_id = f", {email_id_sql(email_id_of)}" if email_id_of else ""
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE organization_id = %s AND sender = %s"  # noqa: S608 - our table name and SQL
            " AND created_at >= %s AND verdict = ANY(%s) AND NOT provider = ANY(%s) LIMIT %s) recent)"
            f"{email_id}",
            [organization.pk, sender, since, [Verdict.ACCEPTED, Verdict.HELD], list(BACKFILL_PROVIDERS), limit],
        )
        row = cursor.fetchone()
    assert row is not None
    return row[0] >= limit, (int(row[1]) if email_id_of else None)
