"""docs/dashboard.md shows the real pages: every picture it names is in docs/img/, every picture
in docs/img/ is named by a doc (one nobody shows is dead weight in git), and they stay small.
No browser: `make screenshots` (scripts/screenshots.py) is what takes them."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
DASHBOARD = DOCS / "dashboard.md"
IMAGES = DOCS / "img"
# The budget the brief set for pictures kept in git: each, and all of them together.
MAX_BYTES = 150 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024

# An HTML <img src="…"> (sized side by side) or Markdown's ![alt](path "title").
PICTURE = re.compile(r"""<img\s[^>]*?\bsrc=["']([^"']+)["']|!\[[^\]]*\]\(\s*<?([^)\s>]+)""")


def pictures_named(markdown: str) -> list[str]:
    """The local pictures a Markdown text shows, as written (relative to its folder)."""
    found = [html or markdown_path for html, markdown_path in PICTURE.findall(markdown)]
    return [path for path in found if not re.match(r"[a-z]+:", path)]


def test_the_picture_finder_reads_both_ways_of_writing_a_picture_and_skips_remote_ones() -> None:
    text = '<img src="img/a.png" width="70%" alt="A"> ![B](img/b.png "title") ![C](https://example.com/c.png)'

    assert pictures_named(text) == ["img/a.png", "img/b.png"]


def test_the_dashboard_doc_shows_each_key_page_at_both_widths() -> None:
    named = set(pictures_named(DASHBOARD.read_text()))

    pages = ["agenda", "timeline", "inbox", "unfiled", "email", "search", "usage", "billing", "team"]
    assert {f"img/{page}_{width}.png" for page in pages for width in (1366, 390)} <= named


def test_every_picture_the_dashboard_doc_names_is_in_the_repository() -> None:
    named = pictures_named(DASHBOARD.read_text())

    assert [path for path in named if not (DOCS / path).is_file()] == []


def test_every_picture_in_docs_img_is_named_by_a_doc() -> None:
    named = {(doc.parent / path).resolve() for doc in DOCS.glob("*.md") for path in pictures_named(doc.read_text())}

    assert [picture.name for picture in sorted(IMAGES.glob("*.png")) if picture.resolve() not in named] == []


def test_the_pictures_stay_small_enough_to_keep_in_git() -> None:
    sizes = {picture.name: picture.stat().st_size for picture in IMAGES.glob("*.png")}

    assert sizes, "docs/img/ has no pictures"
    assert {name: size for name, size in sizes.items() if size > MAX_BYTES} == {}
    assert sum(sizes.values()) <= MAX_TOTAL_BYTES
