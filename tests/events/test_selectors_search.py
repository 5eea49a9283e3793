"""Search's selector: each field of each kind is found, the best match ranks first, snippets
come back marked and escaped, and another workspace's rows never appear."""

import html

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django_tenants.utils import schema_context

from events.selectors_search import marked, search, search_terms, text_matches
from projects.models import ProjectAlias
from tests.factories import EmailFactory, EventFactory, ProjectFactory


@pytest.fixture
def world_search(world):
    return world


def codes(rows):
    return [row.code for row in rows]


def test_terms_are_words_only_so_no_tsquery_syntax_comes_from_the_user():
    assert search_terms("Mapbox & !'tiles':* | <script>") == ["mapbox", "tiles", "script"]
    assert search_terms("  ") == []
    assert search_terms("Größe café Größe") == ["größe", "café"]


@pytest.mark.parametrize(
    ("fields", "query"),
    [
        ({"subject": "Mapbox licence renewal"}, "mapbox"),
        ({"from_name": "Ingrid Halvorsen"}, "halvorsen"),
        ({"from_address": "ingrid@fjordmaps.no"}, "fjordmaps"),
        ({"from_address": "ingrid@fjordmaps.no"}, "ingrid@fjordmaps.no"),
        ({"text": "We chose Mapbox for the store locator."}, "mapbox"),
    ],
)
def test_each_email_field_is_found(world, fields, query):
    email = EmailFactory(**fields)
    EmailFactory(subject="Unrelated", text="Nothing here.")
    assert codes(search(query).emails) == [email.code]


def test_event_title_and_evidence_are_found_and_deleted_events_are_not(world):
    by_title = EventFactory(title="Mapbox key rotation")
    by_evidence = EventFactory(title="Kickoff", evidence="We will settle the mapbox question at the kickoff.")
    gone = EventFactory(title="Mapbox demo")
    gone.deleted_at = gone.created_at
    gone.save(update_fields=["deleted_at"])
    found = search("mapbox").events
    assert set(codes(found)) == {by_title.code, by_evidence.code}
    assert found[0] == by_title  # the title weighs more than the evidence


def test_projects_are_found_by_name_client_and_alias_and_merged_ones_are_not(world):
    by_name = ProjectFactory(name="Fjord Maps portal", client_name="Someone")
    by_client = ProjectFactory(name="Website", client_name="Fjord Maps AS")
    by_alias = ProjectFactory(name="Store locator", client_name="Retail")
    ProjectAlias.objects.create(project=by_alias, alias="Fjord locator")
    merged = ProjectFactory(name="Fjord old", merged_into=by_name)
    found = search("fjord").projects
    assert set(codes(found)) == {by_name.code, by_client.code, by_alias.code}
    assert merged.code not in codes(found)
    alias_hit = next(p for p in found if p == by_alias)
    assert alias_hit.alias_snippet.parts == [("Fjord", True), (" locator", False)]


def test_every_word_must_match_each_as_a_prefix(world):
    both = EmailFactory(subject="Invoices for the tiles")
    EmailFactory(subject="Invoice for the paint")
    assert codes(search("invoice tiles").emails) == [both.code]
    assert codes(search("invoic til").emails) == [both.code]


def test_the_best_match_ranks_first(world):
    text_once = EmailFactory(subject="Weekly notes", text="Also: mapbox.")
    in_subject = EmailFactory(subject="Mapbox contract", text="See the mapbox contract attached. Mapbox pricing.")
    assert codes(search("mapbox").emails) == [in_subject.code, text_once.code]


def test_snippets_mark_the_match_and_escape_the_mail():
    snippet = marked("Hi \ue000<script>\ue001alert(1)</script> and \ue000mapbox\ue001 \ue001 stray \ue000")
    out = render_to_string("events/_snippet.html", {"snippet": snippet})
    assert "<script>" not in out
    assert out == ("Hi <mark>&lt;script&gt;</mark>alert(1)&lt;/script&gt; and <mark>mapbox</mark>  stray ")


def test_a_script_in_mail_never_comes_back_unescaped(world, client_as):
    EmailFactory(
        subject="<script>alert('subject')</script> mapbox",
        from_name="<img src=x onerror=alert(1)>",
        text="Hello <script>alert('text')</script> about mapbox <b>bold</b>.",
    )
    EventFactory(title="<script>alert('title')</script> mapbox", evidence="<script>x()</script> mapbox")
    results = search("mapbox")
    assert results.emails and results.events
    body = client_as(world.viewer).get("/search/?q=mapbox").content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body and "<b>bold" not in body
    assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt; <mark>mapbox</mark>" in body
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; <mark>mapbox</mark>" in body
    # The text's snippet: PostgreSQL's parser leaves tags out of fragments; what is left is escaped.
    assert "Hello alert(&#x27;text&#x27;) about <mark>mapbox</mark> bold" in body


def test_a_query_without_words_runs_no_query(world, django_assert_num_queries):
    with django_assert_num_queries(0):
        results = search(" *&| ")
    assert results.terms == [] and results.count == 0


def test_three_queries_whatever_the_number_of_matches(world, django_assert_num_queries):
    EmailFactory(subject="Mapbox 0")
    EventFactory(title="Mapbox 0")
    with django_assert_num_queries(3):
        search("mapbox")
    EmailFactory.create_batch(30, subject="Mapbox more")
    EventFactory.create_batch(30, title="Mapbox more")
    for n in range(15):
        ProjectFactory(name=f"Mapbox {n}")
    with django_assert_num_queries(3):
        results = search("mapbox")
    assert (len(results.emails), len(results.events), len(results.projects)) == (20, 20, 10)
    assert results.more == {"emails": True, "events": True, "projects": True}


def test_another_workspaces_mail_with_the_same_word_never_appears(world, other_org):
    ours = EmailFactory(subject="Mapbox here")
    with schema_context(other_org.schema_name):
        theirs = EmailFactory(subject="Mapbox there", text="mapbox mapbox")
        EventFactory(title="Mapbox theirs")
        ProjectFactory(name="Mapbox theirs")
        assert codes(search("mapbox").emails) == [theirs.code]
    connection.set_tenant(world.org)
    results = search("mapbox")
    assert codes(results.emails) == [ours.code]
    assert results.events == [] and results.projects == []


def test_text_matches_marks_word_prefixes_and_keeps_the_text_whole():
    text = "Mapbox: the mapboxes & <b>MAPBOX</b>, not remapbox. A a."
    parts = text_matches(text, "mapbox a")
    assert "".join(part for part, _, _ in parts) == text
    assert [part for part, matched, _ in parts if matched] == ["Mapbox", "mapboxes", "MAPBOX", "A", "a"]
    assert [part for part, _, first in parts if first] == ["Mapbox"]
    assert text_matches(text, "zebra") is None
    assert text_matches("", "mapbox") is None
    assert html.escape("<b>") not in "".join(p for p, m, _ in parts if m)
