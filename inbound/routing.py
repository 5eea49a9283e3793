"""Which organization a message is for: the envelope recipient first, then the headers.

Accepted forms, case-insensitive and IDN-safe (domains compared in their ASCII/punycode form):
`slug@INBOUND_DOMAIN`, `slug+hint@INBOUND_DOMAIN` (the hint names a project) and any
InboundAlias address of an organization.
"""

from __future__ import annotations

import email.utils
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models.functions import Lower
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

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


# address → (expiry on the monotonic clock, route). Only routes that were found are kept: a
# "no such address" answer must never outlive the creation of that address (Postmark does not
# retry a 403). A dict and a lock rather than Django's local-memory cache, which would pickle the
# Organization on every read of the webhook's hot path.
_routes: dict[str, tuple[float, Route]] = {}
_routes_lock = threading.Lock()
ROUTE_CACHE_MAX = 10_000


def route_cache_clear() -> None:
    with _routes_lock:
        _routes.clear()


@receiver(post_save, sender=Organization, dispatch_uid="route_cache_organization_saved")
@receiver(post_delete, sender=Organization, dispatch_uid="route_cache_organization_deleted")
@receiver(post_save, sender=InboundAlias, dispatch_uid="route_cache_alias_saved")
@receiver(post_delete, sender=InboundAlias, dispatch_uid="route_cache_alias_deleted")
def _routes_changed(**kwargs: object) -> None:
    route_cache_clear()


def route_find(candidates: list[str]) -> Route | None:
    """The first candidate that belongs to an organization.

    The first candidate is the envelope recipient, our own address in nearly every delivery, so
    its route is remembered for INBOUND_ROUTE_CACHE_SECONDS and the webhook skips the lookup.
    Only the first candidate is answered from memory: a later one may win only when no
    earlier one is an organization's, which only the database can say.
    """
    ttl = settings.INBOUND_ROUTE_CACHE_SECONDS
    if ttl <= 0 or not candidates:
        return _route_lookup(candidates)
    now = time.monotonic()
    cached = _routes.get(candidates[0])
    if cached is not None and cached[0] > now:
        return cached[1]
    route = _route_lookup(candidates)
    if route is not None and route.address == candidates[0]:
        with _routes_lock:
            if len(_routes) >= ROUTE_CACHE_MAX:
                _routes.clear()
            _routes[candidates[0]] = (now + ttl, route)
    return route


def route_for(organization: Organization, address: str) -> Route:
    """The route of a message already known to be `organization`'s, with the project hint its
    address carries (`slug+hint@INBOUND_DOMAIN`)."""
    local, _, domain = address.rpartition("@")
    hint = local.partition("+")[2] if domain == ascii_domain(settings.INBOUND_DOMAIN) else ""
    return Route(organization=organization, address=address, project_hint=hint)


def _route_lookup(candidates: list[str]) -> Route | None:
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
