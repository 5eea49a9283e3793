"""Sender authentication: the provider's SPF, DKIM and DMARC verdicts → one verdict on the From domain.

We never check SPF or DKIM ourselves (no DNS on the webhook's path); we read what the provider
found when the mail reached it, and decide whether the From domain is authenticated:

- DMARC pass → pass; DMARC fail → fail (the provider evaluated the domain's own policy);
- otherwise (no DMARC record, or no DMARC result) an SPF pass for an envelope domain, or a
  DKIM pass for a signing domain, *aligned* with the From domain (same organizational domain,
  RFC 9989's relaxed alignment) → pass; SPF or DKIM results without an aligned pass → fail;
- no result at all → unknown (files fed by commands, providers that send none).

Where the verdicts come from (docs/security.md, "Sender authentication"):
- Amazon SES: `receipt.spfVerdict` / `dkimVerdict` / `dmarcVerdict` of the notification, and
  the DKIM domains from the `Authentication-Results` that SES (authserv-id amazonses.com) put
  on top of the message;
- Postmark: its `Received-SPF` and SpamAssassin's `X-Spam-Tests` (DKIM_VALID_AU is a valid
  signature of the author's domain), the first of each in the headers Postmark posts;
- any provider: the first `Authentication-Results` whose authserv-id is trusted
  (INBOUND_TRUSTED_AUTHSERV_IDS, plus amazonses.com for SES). Other A-R headers are written by
  whoever sent or relayed the message and are never read (RFC 8601 §5).

An `Authentication-Results` value mixes the receiver's verdicts with sender-written text
(comments, `smtp.mailfrom=`); it is split with a tokenizer that respects comments and quoted
strings, stripped of the non-standard clauses SES adds, then parsed by `authres`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import authres
from django.conf import settings
from publicsuffixlist import PublicSuffixList

from inbound.routing import ascii_domain, normalize_address

logger = logging.getLogger(__name__)

# Authentication-Results written by SES itself (observed on every SES sample).
SES_AUTHSERV_ID = "amazonses.com"
# The methods we read; everything else in an Authentication-Results header is dropped.
METHODS = ("spf", "dkim", "dmarc")


class AuthResult(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProviderResults:
    """What the provider reported, before it is compared with the From domain.

    Results are RFC 8601 words (pass, fail, softfail, neutral, none, temperror, permerror)
    or "" when the provider said nothing about that method.
    """

    dmarc: str = ""
    dmarc_domain: str = ""  # header.from of the DMARC result, when given
    spf: str = ""
    spf_domain: str = ""  # the envelope (MAIL FROM) domain SPF was checked for
    dkim: str = ""
    dkim_domains: tuple[str, ...] = ()  # signing domains with a passing signature (known ones)
    dkim_author: bool = False  # a passing signature of the author's domain (SpamAssassin DKIM_VALID_AU)
    sources: tuple[str, ...] = ()  # where these came from, for the record

    @property
    def empty(self) -> bool:
        return not (self.dmarc or self.spf or self.dkim)


@dataclass(frozen=True)
class SenderAuth:
    """The typed verdict on one inbound message's From domain."""

    result: AuthResult
    from_domain: str
    reason: str  # why, in a few words ("DMARC pass", "no aligned SPF or DKIM pass", …)
    results: ProviderResults = field(default_factory=ProviderResults)
    # The detail as recorded when the message arrived (a kept message brought in later, whose
    # provider payload is gone): shown as it was, not rebuilt.
    recorded: str = ""

    @property
    def detail(self) -> str:
        """What the verdict rests on, in one line: "DMARC fail for acme.test (SPF fail evil.test; DMARC fail)"."""
        if self.recorded:
            return self.recorded
        r = self.results
        found = []
        if r.spf:
            found.append(f"SPF {r.spf}" + (f" {r.spf_domain}" if r.spf_domain else ""))
        if r.dkim:
            domains = ", ".join(r.dkim_domains) or ("author's domain" if r.dkim_author else "")
            found.append(f"DKIM {r.dkim}" + (f" {domains}" if domains else ""))
        if r.dmarc:
            found.append(f"DMARC {r.dmarc}")
        domain = f" for {self.from_domain}" if self.from_domain and self.result != AuthResult.UNKNOWN else ""
        return f"{self.reason}{domain}" + (f" ({'; '.join(found)})" if found else "")

    def describe(self) -> str:
        """The email's log line: "sender authenticated: DMARC pass for acme.test (…)"."""
        label = {AuthResult.PASS: "authenticated", AuthResult.FAIL: "not authenticated"}.get(self.result, "unverified")
        return f"sender {label}: {self.detail}"


# --- alignment ------------------------------------------------------------------------------


@functools.cache
def _psl() -> PublicSuffixList:
    # The list bundled with the package (publicsuffixlist's version carries its date); never
    # fetched at run time.
    return PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """`mail.client.co.uk` → `client.co.uk`; a public suffix or an unknown name stays as it is."""
    domain = ascii_domain(domain)
    if not domain:
        return ""
    return _psl().privatesuffix(domain) or domain


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment (RFC 9989): both domains have the same organizational domain."""
    if not domain or not from_domain:
        return False
    return organizational_domain(domain) == organizational_domain(from_domain)


def _domain_of(address: str) -> str:
    address = address.strip().strip("<>").strip()
    if "@" in address:
        address = address.rpartition("@")[2]
    return ascii_domain(address.strip().strip(">"))


# --- tokenizing header values ---------------------------------------------------------------


def _split_outside(value: str, separator: str) -> list[str] | None:
    """Split `value` on `separator` outside quoted strings and comments; comments are dropped
    (each replaced by a space). None when a quote or comment is left open."""
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = False
    index = 0
    while index < len(value):
        char = value[index]
        if quoted:
            current.append(char)
            if char == "\\" and index + 1 < len(value):
                current.append(value[index + 1])
                index += 1
            elif char == '"':
                quoted = False
        elif depth:
            if char == "\\":
                index += 1
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
        elif char == '"':
            quoted = True
            current.append(char)
        elif char == "(":
            depth = 1
            current.append(" ")
        elif char == separator or (separator == " " and char in " \t\r\n"):
            pieces.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    if quoted or depth:
        return None
    pieces.append("".join(current).strip())
    return [piece for piece in pieces if piece]


_METHOD = re.compile(r"(?i)^([a-z0-9_-]+)\s*=\s*([a-z]+)\b\s*(.*)$", re.S)
_PROPERTY = re.compile(r"(?i)^(?:[a-z0-9_-]+\.[a-z0-9_.-]+|reason)=")
_AUTHSERV = re.compile(r"^[A-Za-z0-9._-]+$")


def authentication_results_parse(value: str) -> tuple[str, list[Any]] | None:
    """(authserv-id, authres results of spf/dkim/dmarc) of one Authentication-Results value,
    or None when it cannot be read. Comments go; clauses and properties that are not RFC 8601
    (SES adds `client-ip=`, `envelope-from=`, `helo=`) go too, quoted strings staying whole."""
    clauses = _split_outside(value, ";")
    if not clauses:
        return None
    head = clauses[0].split()
    if not head or not _AUTHSERV.match(head[0]):
        return None
    authserv_id = head[0].lower()
    kept: list[str] = []
    for clause in clauses[1:]:
        match = _METHOD.match(clause)
        if match is None or match.group(1).lower() not in METHODS:
            continue
        tokens = _split_outside(match.group(3), " ") or []
        properties = [token for token in tokens if _PROPERTY.match(token)]
        kept.append(" ".join([f"{match.group(1).lower()}={match.group(2).lower()}", *properties]))
    if not kept:
        return authserv_id, []
    try:
        parsed = authres.all_features().parse_value(f"{authserv_id}; " + "; ".join(kept))
    except Exception:  # noqa: BLE001 - authres raises its own SyntaxError and others on odd input
        logger.info("Unreadable Authentication-Results from %s", authserv_id)
        return None
    return authserv_id, list(parsed.results)


def received_spf_parse(value: str) -> tuple[str, dict[str, str]]:
    """(result, key=value pairs) of a Received-SPF value (RFC 7208 §9.1); first key wins."""
    match = re.match(r"\s*([A-Za-z]+)", value)
    if match is None:
        return "", {}
    pairs: dict[str, str] = {}
    for piece in _split_outside(value[match.end() :], ";") or []:
        key, equals, item = piece.partition("=")
        key = key.strip().lower()
        if equals and re.fullmatch(r"[a-z0-9_.-]+", key) and key not in pairs:
            pairs[key] = item.strip().strip('"')
    return match.group(1).lower(), pairs


# --- collecting the provider's results ------------------------------------------------------


def _first(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    lowered = name.lower()
    return next((value for key, value in headers if key.lower() == lowered), None)


def trusted_authserv_ids(provider: str) -> set[str]:
    trusted = {ident.strip().lower() for ident in settings.INBOUND_TRUSTED_AUTHSERV_IDS if ident.strip()}
    if provider == "amazon_ses":
        trusted.add(SES_AUTHSERV_ID)
    return trusted


def _from_authentication_results(headers: list[tuple[str, str]], trusted: set[str]) -> ProviderResults:
    """The first Authentication-Results naming a trusted authserv-id (RFC 8601 §5: the
    receiving server removes copies claiming its id, so the first is its own)."""
    for name, value in headers:
        if name.lower() != "authentication-results":
            continue
        parsed = authentication_results_parse(value)
        if parsed is None or parsed[0] not in trusted:
            continue
        authserv_id, results = parsed
        dmarc = [r for r in results if r.method == "dmarc"]
        spf = [r for r in results if r.method == "spf"]
        dkim = [r for r in results if r.method == "dkim"]
        # Conflicting DMARC results count as the worst of them.
        dmarc_result = ""
        if dmarc:
            words = [str(r.result).lower() for r in dmarc]
            dmarc_result = "fail" if "fail" in words else words[0]
        dkim_domains = tuple(
            dict.fromkeys(
                domain
                for r in dkim
                if str(r.result).lower() == "pass"
                and (domain := _domain_of(str(getattr(r, "header_d", None) or getattr(r, "header_i", None) or "")))
            )
        )
        dkim_words = [str(r.result).lower() for r in dkim]
        return ProviderResults(
            dmarc=dmarc_result,
            dmarc_domain=_domain_of(str(getattr(dmarc[0], "header_from", None) or "")) if dmarc else "",
            spf=str(spf[0].result).lower() if spf else "",
            spf_domain=_domain_of(str(getattr(spf[0], "smtp_mailfrom", None) or "")) if spf else "",
            dkim=("pass" if "pass" in dkim_words else dkim_words[0]) if dkim_words else "",
            dkim_domains=dkim_domains,
            sources=(f"Authentication-Results {authserv_id}",),
        )
    return ProviderResults()


# SpamAssassin rules Postmark reports in X-Spam-Tests.
_SA_SPF = {
    "SPF_PASS": "pass",
    "SPF_FAIL": "fail",
    "SPF_SOFTFAIL": "softfail",
    "SPF_NEUTRAL": "neutral",
    "SPF_NONE": "none",
}
_SA_DMARC = {"DMARC_PASS": "pass", "DMARC_REJECT": "fail", "DMARC_QUAR": "fail"}


def _from_spamassassin(value: str | None, envelope_domain: str) -> ProviderResults:
    if value is None:
        return ProviderResults()
    tests = {token.strip().upper() for token in value.split(",") if token.strip()}
    spf = next((word for rule, word in _SA_SPF.items() if rule in tests), "")
    dmarc = next((word for rule, word in _SA_DMARC.items() if rule in tests), "")
    dkim = ""
    if "DKIM_VALID" in tests or "DKIM_VALID_AU" in tests:
        dkim = "pass"
    elif "DKIM_SIGNED" in tests or "DKIM_INVALID" in tests:
        dkim = "fail"
    return ProviderResults(
        dmarc=dmarc,
        spf=spf,
        spf_domain=envelope_domain if spf else "",
        dkim=dkim,
        dkim_author="DKIM_VALID_AU" in tests,
        sources=("X-Spam-Tests",) if spf or dkim or dmarc else (),
    )


def _from_received_spf(value: str | None, envelope_domain: str) -> ProviderResults:
    """The receiver's SPF result; its domain is the provider's structured envelope sender
    when known (the `envelope-from=` it names is the same address, read from text)."""
    if value is None:
        return ProviderResults()
    result, pairs = received_spf_parse(value)
    if result not in {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"}:
        return ProviderResults()
    if pairs.get("identity", "mailfrom").lower() != "mailfrom":
        # A HELO check says nothing about the From domain.
        return ProviderResults(spf=result, sources=("Received-SPF",))
    domain = envelope_domain or _domain_of(pairs.get("envelope-from", ""))
    return ProviderResults(spf=result, spf_domain=domain, sources=("Received-SPF",))


_SES_WORDS = {"PASS": "pass", "FAIL": "fail", "GRAY": "none", "PROCESSING_FAILED": "temperror"}


def _ses_status(receipt: Mapping[str, Any], key: str) -> str:
    verdict = receipt.get(key)
    status = verdict.get("status") if isinstance(verdict, Mapping) else None
    return _SES_WORDS.get(str(status or "").upper(), "")


def _from_ses_receipt(esp_event: Mapping[str, Any]) -> ProviderResults:
    receipt = esp_event.get("receipt")
    if not isinstance(receipt, Mapping):
        return ProviderResults()
    mail = esp_event.get("mail")
    source = str(mail.get("source") or "") if isinstance(mail, Mapping) else ""
    dmarc, spf, dkim = (_ses_status(receipt, key) for key in ("dmarcVerdict", "spfVerdict", "dkimVerdict"))
    if not (dmarc or spf or dkim):
        return ProviderResults()
    return ProviderResults(
        dmarc=dmarc,
        spf=spf,
        spf_domain=_domain_of(source) if source else "",
        dkim=dkim,
        sources=("SES receipt",),
    )


def _merge(first: ProviderResults, second: ProviderResults) -> ProviderResults:
    """`first`'s results where it has them, else `second`'s (per method)."""
    dkim_from_first = bool(first.dkim)
    return ProviderResults(
        dmarc=first.dmarc or second.dmarc,
        dmarc_domain=first.dmarc_domain if first.dmarc else second.dmarc_domain,
        spf=first.spf or second.spf,
        spf_domain=(first.spf_domain if first.spf else second.spf_domain),
        dkim=first.dkim or second.dkim,
        dkim_domains=first.dkim_domains if dkim_from_first else second.dkim_domains,
        dkim_author=first.dkim_author if dkim_from_first else second.dkim_author,
        sources=tuple(dict.fromkeys([*first.sources, *second.sources])),
    )


def _postmark_headers(esp_event: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    listed = esp_event.get("Headers")
    if not isinstance(listed, list):
        return None
    return [
        (str(item.get("Name", "")), str(item.get("Value", "")))
        for item in listed
        if isinstance(item, Mapping) and item.get("Name")
    ]


def provider_results(
    provider: str, esp_event: object, headers: list[tuple[str, str]], envelope_sender: str | None = None
) -> ProviderResults:
    """Everything the provider reported about this message's authentication.

    `headers` are the message's own (decoded, in order); `esp_event` the provider's payload
    (Postmark's JSON, SES's notification) or None for files; `envelope_sender` the MAIL FROM
    the provider reports in a field of its own.
    """
    payload: Mapping[str, Any] = esp_event if isinstance(esp_event, Mapping) else {}
    trusted = trusted_authserv_ids(provider)
    envelope_domain = _domain_of(envelope_sender) if envelope_sender and normalize_address(envelope_sender) else ""
    if provider == "postmark":
        # Postmark posts its own header list (its Received-SPF and X-Spam-* on top); the
        # message rebuilt from it, or RawEmail, may lack them.
        listed = _postmark_headers(payload) or headers
        results = _from_authentication_results(listed, trusted)
        results = _merge(results, _from_received_spf(_first(listed, "Received-SPF"), envelope_domain))
        return _merge(results, _from_spamassassin(_first(listed, "X-Spam-Tests"), envelope_domain))
    if provider == "amazon_ses":
        receipt = _from_ses_receipt(payload)
        stamped = _from_authentication_results(headers, trusted)
        results = _merge(receipt, stamped)
        if receipt.dkim == "pass" and stamped.dkim == "pass":
            # The receipt says a signature passed; SES's own header says whose.
            results = replace(results, dkim_domains=stamped.dkim_domains)
        return results
    return _from_authentication_results(headers, trusted) if trusted else ProviderResults()


# --- the verdict -----------------------------------------------------------------------------


def sender_auth(results: ProviderResults, *, from_addresses: list[str]) -> SenderAuth:
    """The verdict on the From domain (see the module's docstring).

    `from_addresses` are the addresses of every From header: alignment is impossible with
    none, or with more than one (RFC 9989).
    """
    domains = {_domain_of(address) for address in from_addresses if normalize_address(address)}
    from_domain = next(iter(domains)) if len(domains) == 1 else ""
    if results.empty:
        return SenderAuth(AuthResult.UNKNOWN, from_domain, "no SPF, DKIM or DMARC result from the provider", results)
    if len(from_addresses) != 1 or not from_domain:
        return SenderAuth(AuthResult.FAIL, from_domain, "no single From address to align with", results)
    dmarc_applies = not results.dmarc_domain or results.dmarc_domain == from_domain
    if results.dmarc == "pass" and dmarc_applies:
        return SenderAuth(AuthResult.PASS, from_domain, "DMARC pass", results)
    if results.dmarc == "fail":
        return SenderAuth(AuthResult.FAIL, from_domain, "DMARC fail", results)
    if results.spf == "pass" and aligned(results.spf_domain, from_domain):
        return SenderAuth(AuthResult.PASS, from_domain, "SPF pass aligned with From", results)
    if results.dkim == "pass" and (results.dkim_author or any(aligned(d, from_domain) for d in results.dkim_domains)):
        return SenderAuth(AuthResult.PASS, from_domain, "DKIM pass aligned with From", results)
    return SenderAuth(AuthResult.FAIL, from_domain, "no SPF or DKIM pass aligned with From", results)
