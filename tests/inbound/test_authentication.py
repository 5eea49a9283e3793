"""inbound.authentication on its own: reading the providers' verdicts (the corpus' real payloads
and variants built from them) and the verdict on the From domain."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events.ingest import message_head_parse, parse_bytes
from inbound.authentication import (
    AuthResult,
    ProviderResults,
    aligned,
    authentication_results_parse,
    organizational_domain,
    provider_results,
    received_spf_parse,
    sender_auth,
)
from tests.conftest import CORPORA


def corpus(name: str) -> Any:
    return json.loads((CORPORA / name).read_bytes())


def ses_message(name: str) -> dict[str, Any]:
    return json.loads(corpus(f"ses/{name}")["Message"])


def ses_headers(notification: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["name"], item["value"]) for item in notification["mail"]["headers"]]


# --- parsing what the providers write ------------------------------------------------------


def test_ses_authentication_results_as_observed_parse_despite_their_extra_clauses():
    notification = ses_message("aws-actionmailbox-ses_inbound_email.json")
    (value,) = [v for n, v in ses_headers(notification) if n == "Authentication-Results"]
    authserv_id, results = authentication_results_parse(value)
    assert authserv_id == "amazonses.com"
    assert [(r.method, r.result) for r in results] == [("spf", "pass"), ("dkim", "pass"), ("dmarc", "none")]
    assert results[1].header_i == "@example.com"


@pytest.mark.parametrize(
    "value",
    [
        # A quoted local part (sender-written) holding a verdict, and a comment that ends early.
        'mx.google.com; spf=pass (google.com: domain of "a) dmarc=pass (b"@evil.test designates 1.2.3.4) '
        'smtp.mailfrom="a) dmarc=pass (b"@evil.test',
        # A verdict inside a nested comment.
        "mx.google.com; (note (x) dmarc=pass) spf=fail smtp.mailfrom=a@evil.test",
        # A semicolon inside a comment must not start a clause.
        "mx.google.com; spf=fail (domain of a; dmarc=pass header.from=acme.test) smtp.mailfrom=a@evil.test",
    ],
)
def test_sender_written_text_in_authentication_results_never_becomes_a_verdict(value):
    _, results = authentication_results_parse(value)
    assert [r.method for r in results] == ["spf"]


def test_an_unbalanced_authentication_results_header_is_not_read():
    assert authentication_results_parse('mx.google.com; dmarc=pass (unclosed "comment') is None


def test_postmarks_received_spf_reads_its_result_and_keys():
    (header,) = [h for h in corpus("postmark/jjaffeux_inbound.json")["Headers"] if h["Name"] == "Received-SPF"]
    result, pairs = received_spf_parse(header["Value"])
    assert result == "pass"
    assert pairs["envelope-from"] == "myUser@theirDomain.com"
    assert pairs["identity"] == "mailfrom"


def test_relaxed_alignment_compares_organizational_domains():
    assert organizational_domain("Mail.Client.CO.UK") == "client.co.uk"
    assert aligned("bounces.acme.test", "acme.test")
    assert aligned("foo.example.com", "news.example.com")
    assert not aligned("foo.example.net", "news.example.com")
    assert not aligned("evil.test", "acme.test")
    # A public suffix aligns with nothing but itself.
    assert not aligned("co.uk", "client.co.uk")


# --- the corpus' real verdicts -------------------------------------------------------------


def _postmark(payload: dict[str, Any]) -> tuple[ProviderResults, Any]:
    envelope = payload["Headers"][0]["Value"].strip("<>") if payload.get("Headers") else None
    from_full = payload.get("FromFull") or {}
    results = provider_results("postmark", payload, [], envelope)
    return results, sender_auth(results, from_addresses=[from_full.get("Email", "")])


def test_a_real_postmark_payload_passes_by_its_spamassassin_author_signature():
    results, auth = _postmark(corpus("postmark/jjaffeux_inbound.json"))
    assert (results.spf, results.spf_domain, results.dkim, results.dkim_author) == (
        "pass",
        "theirdomain.com",
        "pass",
        True,
    )
    assert auth.result == AuthResult.PASS
    assert auth.from_domain == "theirdomain.com"


def test_a_real_postmark_payload_with_its_spf_pass_for_another_domain_fails():
    payload = corpus("postmark/jjaffeux_inbound.json")
    payload["FromFull"]["Email"] = "owner@acme.test"
    payload["Headers"] = [h for h in payload["Headers"] if h["Name"] != "X-Spam-Tests"]
    _, auth = _postmark(payload)
    assert auth.result == AuthResult.FAIL
    assert auth.reason == "no SPF or DKIM pass aligned with From"


def test_a_postmark_payload_without_verdicts_is_unknown():
    _, auth = _postmark(corpus("postmark/mvdnbrk_inbound_camelcase_message_id.json"))
    assert auth.result == AuthResult.UNKNOWN


def _ses(notification: dict[str, Any]) -> Any:
    head = message_head_parse(parse_bytes(b"".join(f"{n}: {v}\r\n".encode() for n, v in ses_headers(notification))))
    results = provider_results("amazon_ses", notification, head.headers, notification["mail"]["source"])
    return sender_auth(results, from_addresses=head.from_addresses)


def test_a_real_ses_receipt_without_dmarc_record_passes_by_aligned_spf():
    auth = _ses(ses_message("aws-actionmailbox-ses_inbound_email.json"))
    assert auth.result == AuthResult.PASS
    assert auth.results.dmarc == "none"  # GRAY: the domain publishes no DMARC record
    assert auth.results.dkim_domains == ("example.com",)


def test_a_real_ses_receipt_that_fails_dmarc_fails():
    auth = _ses(ses_message("aws-actionmailbox-ses_inbound_email_s3.json"))
    assert (auth.result, auth.reason) == (AuthResult.FAIL, "DMARC fail")
    # The corpus anonymised From (example.com), not the header SES wrote (uiowa.edu).
    assert auth.detail.startswith("DMARC fail for example.com")


def test_ses_dkim_counts_for_the_domains_ses_own_header_names():
    notification = ses_message("aws-actionmailbox-ses_inbound_email.json")
    notification["mail"]["source"] = "bounce@mailer.evil.test"  # SPF passes for someone else
    auth = _ses(notification)
    assert (auth.result, auth.reason) == (AuthResult.PASS, "DKIM pass aligned with From")
    # A DKIM pass of another domain proves nothing about From.
    for item in notification["mail"]["headers"]:
        if item["name"] == "Authentication-Results":
            item["value"] = item["value"].replace("header.i=@example.com", "header.i=@evil.test")
    assert _ses(notification).result == AuthResult.FAIL


def test_an_authentication_results_header_from_a_stranger_is_never_read():
    headers = [("Authentication-Results", "mx.example; dmarc=pass header.from=acme.test")]
    assert provider_results("postmark", {"Headers": []}, headers).empty
    assert provider_results("eml", None, headers).empty


def test_a_configured_upstream_is_read_first_only(settings):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.google.com"]
    headers = [
        ("Authentication-Results", "mx.google.com; dkim=pass header.d=acme.test; spf=fail; dmarc=pass"),
        ("Authentication-Results", "mx.google.com; dmarc=fail"),  # lower: written before Google, ignored
    ]
    results = provider_results("eml", None, headers)
    assert (results.dmarc, results.sources) == ("pass", ("Authentication-Results mx.google.com",))
    assert sender_auth(results, from_addresses=["owner@acme.test"]).result == AuthResult.PASS


# --- the verdict ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        (ProviderResults(dmarc="pass"), AuthResult.PASS),
        (ProviderResults(dmarc="fail", spf="pass", spf_domain="acme.test"), AuthResult.FAIL),
        (ProviderResults(dmarc="none", spf="pass", spf_domain="bounces.acme.test"), AuthResult.PASS),
        (ProviderResults(spf="pass", spf_domain="evil.test"), AuthResult.FAIL),
        (
            ProviderResults(spf="fail", spf_domain="acme.test", dkim="pass", dkim_domains=("acme.test",)),
            AuthResult.PASS,
        ),
        (ProviderResults(spf="softfail", dkim="pass", dkim_domains=("evil.test",)), AuthResult.FAIL),
        (ProviderResults(dkim="pass", dkim_author=True), AuthResult.PASS),
        (ProviderResults(dmarc="temperror"), AuthResult.FAIL),
        (ProviderResults(), AuthResult.UNKNOWN),
        # A DMARC pass for another From domain is not this message's.
        (ProviderResults(dmarc="pass", dmarc_domain="evil.test"), AuthResult.FAIL),
    ],
)
def test_the_verdict_on_the_from_domain(results, expected):
    assert sender_auth(results, from_addresses=["Owner@ACME.test"]).result == expected


def test_two_from_addresses_never_pass():
    auth = sender_auth(ProviderResults(dmarc="pass"), from_addresses=["owner@acme.test", "x@evil.test"])
    assert (auth.result, auth.reason) == (AuthResult.FAIL, "no single From address to align with")
