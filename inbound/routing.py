"""Which organization a message is for: the envelope recipient first, then the headers.

Accepted forms, case-insensitive and IDN-safe (domains compared in their ASCII/punycode form):
`slug@INBOUND_DOMAIN`, `slug+hint@INBOUND_DOMAIN` (the hint names a project) and any
InboundAlias address of an organization.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

from django.conf import settings
from django.db.models.functions import Lower

from organizations.models import InboundAlias, Organization

# Headers that name a recipient, in the order they are trusted after the envelope.
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")


@dataclass(frozen=True)
class Route:
    organization: Organization
    address: str  # the address that matched, normalised
    project_hint: str = ""


def ascii_domain(domain: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def normalize_address(address: str) -> str:
    """`Local@Bücher.Example` → `local@xn--bcher-kva.example` (empty when it is no address)."""
    address = address.strip().strip("<>").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return ""
    return f"{local.lower()}@{ascii_domain(domain)}"


def unicode_address(address: str) -> str:
    """`local@xn--bcher-kva.example` → `local@bücher.example` (unchanged when not IDNA)."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}"
    except UnicodeError:
        return address


def recipient_candidates(envelope_recipient: str, headers: list[tuple[str, str]]) -> list[str]:
    """Every recipient address, normalised, in trust order, without repeats."""
    values = [envelope_recipient] if envelope_recipient else []
    for wanted in RECIPIENT_HEADERS:
        values.extend(value for name, value in headers if name.lower() == wanted)
    candidates: list[str] = []
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:  # noqa: BLE001 - malformed headers contribute no addresses
        pairs = []
    for _, addr in pairs:
        normalized = normalize_address(addr)
        if normalized and normalized not in candidates:
            candidates.append(normalized)
    return candidates


def route_find(candidates: list[str]) -> Route | None:
    """The first candidate that belongs to an organization (two queries at most)."""
    inbound_domain = ascii_domain(settings.INBOUND_DOMAIN)
    slug_of: dict[str, tuple[str, str]] = {}
    for address in candidates:
        local, _, domain = address.rpartition("@")
        if domain == inbound_domain:
            slug, _, hint = local.partition("+")
            slug_of[address] = (slug, hint)
    organizations = {
        org.slug: org
        for org in Organization.objects.filter(
            slug__in={slug for slug, _ in slug_of.values()}, is_active=True, is_template=False
        ).exclude(schema_name="public")
    }
    aliases: dict[str, Organization] = {}
    # An alias may be stored with a Unicode domain: look both spellings up.
    spellings = {unicode_address(a): a for a in candidates if a not in slug_of} | {
        a: a for a in candidates if a not in slug_of
    }
    if spellings:
        aliases = {
            spellings[alias.lowered]: alias.organization  # type: ignore[attr-defined]
            for alias in InboundAlias.objects.annotate(lowered=Lower("address"))
            .filter(lowered__in=list(spellings), organization__is_active=True)
            .select_related("organization")
        }
    for address in candidates:
        if address in slug_of:
            slug, hint = slug_of[address]
            if slug in organizations:
                return Route(organization=organizations[slug], address=address, project_hint=hint)
        elif address in aliases:
            return Route(organization=aliases[address], address=address)
    return None
