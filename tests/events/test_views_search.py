"""The search page: every member can search, the page and its htmx fragment, the nav box, the
email page marking the query, and the query count at 1 and 500 of each kind."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import EmailFactory, EventFactory, ProjectFactory

SEARCH = "/search/"


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_member_can_search(world, client_as, role):
    EmailFactory(subject="Mapbox tiles")
    response = client_as(world.user(role)).get(SEARCH, {"q": "mapbox"})
    assert response.status_code == 200
    assert "<mark>Mapbox</mark> tiles" in response.content.decode()


def test_an_outsider_gets_404_and_a_stranger_is_sent_to_sign_in(world, client_as, workspace_client):
    assert client_as(world.outsider).get(SEARCH, {"q": "x"}).status_code == 404
    response = workspace_client.get(SEARCH, {"q": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_full_page_groups_results_by_kind_each_opening_its_object(world, client_as):
    project = ProjectFactory(name="Mapbox migration")
    email = EmailFactory(subject="Mapbox tiles", project=project)
    event = EventFactory(project=project, email=email, title="Mapbox review")
    response = client_as(world.member).get(SEARCH, {"q": "mapbox"})
    body = response.content.decode()
    assert response["Vary"].count("HX-Request") == 1
    assert '<input type="search" name="q" id="nav-search" value="mapbox"' in body
    projects, events, emails = (
        re.search(rf'<section class="search-group" id="search-{kind}".*?</section>', body, re.S).group(0)
        for kind in ("projects", "events", "emails")
    )
    assert f'href="/projects/{project.code}/"' in projects
    assert f'href="/projects/{project.code}/events/{event.code}/"' in events
    assert f'href="/inbox/{email.code}/?highlight={event.code}#evidence"' in events
    assert f'href="/inbox/{email.code}/?q=mapbox#match"' in emails


def test_htmx_gets_the_results_fragment_only(world, client_as):
    EmailFactory(subject="Mapbox tiles")
    response = client_as(world.member).get(SEARCH, {"q": "mapbox"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="search-results">')
    assert "<html" not in body and "nav-search" not in body
    assert "<mark>Mapbox</mark>" in body


def test_it_says_when_nothing_matches_and_when_there_is_nothing_to_look_for(world, client_as):
    member = client_as(world.member)
    assert "Nothing matches “zebra”" in member.get(SEARCH, {"q": "zebra"}).content.decode()
    assert "Type a word or two" in member.get(SEARCH).content.decode()


def test_the_nav_box_is_on_every_workspace_page_and_live_only_on_the_search_page(world, client_as):
    member = client_as(world.member)
    projects_page = member.get("/projects/").content.decode()
    box = re.search(r'<form class="nav-search".*?</form>', projects_page, re.S).group(0)
    assert 'action="/search/"' in box and 'aria-keyshortcuts="/"' in box and "hx-get" not in box
    search_page = member.get(SEARCH, {"q": "a"}).content.decode()
    box = re.search(r'<form class="nav-search".*?</form>', search_page, re.S).group(0)
    assert 'hx-get="/search/"' in box and 'hx-target="#search-results"' in box


def test_the_email_page_marks_the_query_in_the_escaped_text(world, client_as):
    email = EmailFactory(text="Hi,\n<script>alert(1)</script> Mapbox tiles, mapboxes too.\nPat")
    body = client_as(world.viewer).get(f"/inbox/{email.code}/", {"q": "mapbox"}).content.decode()
    text = re.search(r'<pre class="email-body">(.*?)</pre>', body, re.S).group(1)
    assert text == (
        'Hi,\n&lt;script&gt;alert(1)&lt;/script&gt; <mark class="search-match" id="match">Mapbox</mark> tiles, '
        '<mark class="search-match">mapboxes</mark> too.\nPat'
    )
    assert "Words matching “mapbox” are marked." in body


def test_the_email_page_says_when_the_match_is_not_in_the_text(world, client_as):
    email = EmailFactory(subject="Mapbox", text="Nothing about it here.")
    body = client_as(world.viewer).get(f"/inbox/{email.code}/", {"q": "mapbox"}).content.decode()
    assert "is not in the text part" in body
    assert '<pre class="email-body">Nothing about it here.</pre>' in body


def test_the_page_costs_the_same_queries_with_1_and_500_of_each(world, client_as, django_assert_num_queries):
    member = client_as(world.member)

    def add(n, offset):
        projects = [ProjectFactory(name=f"Mapbox project {offset + i}") for i in range(n)]
        for i in range(n):
            email = EmailFactory(subject=f"Mapbox tiles {offset + i}", project=projects[i % len(projects)])
            EventFactory(project=projects[i % len(projects)], email=email, title=f"Mapbox review {offset + i}")

    add(1, 0)
    member.get(SEARCH, {"q": "mapbox"})  # warm the session
    with CaptureQueriesContext(connection) as one:
        assert member.get(SEARCH, {"q": "mapbox"}).status_code == 200
    add(499, 1)
    with django_assert_num_queries(len(one.captured_queries)):
        response = member.get(SEARCH, {"q": "mapbox"})
    results = response.context["results"]
    assert (len(results.emails), len(results.events), len(results.projects)) == (20, 20, 10)
