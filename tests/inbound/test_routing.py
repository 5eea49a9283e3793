from __future__ import annotations

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
