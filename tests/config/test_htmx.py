"""config.htmx.render_page: one URL answers with the page, or with its fragment when htmx asks, and
says so to caches (Vary: HX-Request) both times."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import ProjectFactory

PAGES_WITH_A_FRAGMENT = ["/agenda/", "/search/?q=menu", "/projects/", "/inbox/", "/usage/", "/team/"]


def _vary(response: Any) -> set[str]:
    return {part.strip() for part in response.get("Vary", "").split(",")}


@pytest.mark.parametrize("path", PAGES_WITH_A_FRAGMENT)
def test_a_page_and_its_fragment_share_a_url_and_tell_caches_apart(world: Any, client_as: Any, path: str) -> None:
    client = client_as(world.admin)
    page = client.get(path)
    fragment = client.get(path, HTTP_HX_REQUEST="true")

    assert (page.status_code, fragment.status_code) == (200, 200)
    assert "<html" in page.content.decode()
    assert "<html" not in fragment.content.decode()
    assert "HX-Request" in _vary(page)
    assert "HX-Request" in _vary(fragment)


def test_the_timeline_answers_its_results_or_its_next_page_to_htmx(world: Any, client_as: Any) -> None:
    project = ProjectFactory()
    client = client_as(world.member)
    results = client.get(f"/projects/{project.code}/", HTTP_HX_REQUEST="true")
    page = client.get(f"/projects/{project.code}/?cursor=x", HTTP_HX_REQUEST="true")

    assert "<html" not in results.content.decode()
    assert "<html" not in page.content.decode()
    assert "HX-Request" in _vary(results) and "HX-Request" in _vary(page)
