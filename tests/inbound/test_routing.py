from __future__ import annotations

from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbound.routing import normalize_address, recipient_candidates, route_find
from organizations.models import InboundAlias


def test_it_routes_the_slug_address_case_insensitively(org):
    route = route_find(recipient_candidates("TestOrg@IN.localhost", []))
    assert route is not None
    assert (route.organization, route.project_hint) == (org, "")


def test_it_reads_the_project_hint_from_a_plus_address(org):
    route = route_find(recipient_candidates("testorg+Harbour-Refit@in.localhost", []))
    assert route is not None
    assert (route.organization, route.project_hint) == (org, "harbour-refit")


def test_it_prefers_the_envelope_recipient_over_the_headers(org, other_org):
    headers = [("To", "otherorg@in.localhost")]
    route = route_find(recipient_candidates("testorg@in.localhost", headers))
    assert route is not None and route.organization == org


def test_it_falls_back_to_to_cc_delivered_to_and_x_original_to(org):
    for header in ("To", "Cc", "Delivered-To", "X-Original-To"):
        headers = [(header, "Someone <someone@client.test>, Test Org <testorg@in.localhost>")]
        route = route_find(recipient_candidates("", headers))
        assert route is not None and route.organization == org, header


def test_it_routes_an_organization_alias(org):
    InboundAlias.objects.create(organization=org, address="Projects@Acme-Client.test")
    route = route_find(recipient_candidates("", [("Cc", "projects@acme-client.test")]))
    assert route is not None and route.organization == org


def test_it_finds_no_route_for_unknown_addresses_or_the_template(org):
    assert route_find(recipient_candidates("nobody@in.localhost", [("To", "tenant_template@in.localhost")])) is None
    assert route_find(recipient_candidates("testorg@elsewhere.test", [])) is None


def test_it_compares_internationalised_domains_in_their_ascii_form(org, settings):
    settings.INBOUND_DOMAIN = "post.bücher.example"
    assert normalize_address("TestOrg@Post.Bücher.Example") == "testorg@post.xn--bcher-kva.example"
    route = route_find(recipient_candidates("testorg@post.xn--bcher-kva.example", []))
    assert route is not None and route.organization == org


def test_it_ignores_malformed_recipient_headers(org):
    assert recipient_candidates("", [("To", "<<<@@@>>>"), ("Cc", "undisclosed-recipients:;")]) == []


def test_it_routes_an_alias_stored_with_a_unicode_domain(org):
    InboundAlias.objects.create(organization=org, address="projekte@bücher.example")
    route = route_find(recipient_candidates("Projekte@XN--BCHER-KVA.example", []))
    assert route is not None and route.organization == org


def test_a_cached_envelope_recipient_is_routed_without_a_query(org, route_cache, django_assert_num_queries):
    candidates = recipient_candidates("testorg@in.localhost", [])
    with CaptureQueriesContext(connection) as first:
        assert route_find(candidates).organization == org
    assert first.captured_queries
    with django_assert_num_queries(0):
        assert route_find(candidates).organization == org


def test_an_unknown_address_is_never_cached_so_a_new_alias_is_routed_at_once(org, route_cache):
    candidates = recipient_candidates("projects@acme-client.test", [])
    assert route_find(candidates) is None
    InboundAlias.objects.create(organization=org, address="projects@acme-client.test")
    route = route_find(candidates)
    assert route is not None and route.organization == org


def test_a_later_candidate_is_not_answered_from_the_cache(org, other_org, route_cache):
    assert route_find(recipient_candidates("otherorg@in.localhost", [])).organization == other_org
    # testorg comes first here: the cached route of otherorg must not win.
    route = route_find(recipient_candidates("testorg@in.localhost", [("Cc", "otherorg@in.localhost")]))
    assert route.organization == org


def test_deactivating_an_organization_drops_its_cached_route(org, route_cache):
    candidates = recipient_candidates("testorg@in.localhost", [])
    assert route_find(candidates) is not None
    org.is_active = False
    org.save(update_fields=["is_active"])
    assert route_find(candidates) is None


def test_a_cached_route_expires(org, route_cache):
    candidates = recipient_candidates("testorg@in.localhost", [])
    with mock.patch("inbound.routing.time.monotonic", return_value=1000.0):
        route_find(candidates)
    with mock.patch("inbound.routing.time.monotonic", return_value=1009.0), CaptureQueriesContext(connection) as fresh:
        route_find(candidates)
    with mock.patch("inbound.routing.time.monotonic", return_value=1011.0), CaptureQueriesContext(connection) as stale:
        assert route_find(candidates).organization == org
    assert (len(fresh.captured_queries), bool(stale.captured_queries)) == (0, True)
