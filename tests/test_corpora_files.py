"""The corpora are in the repository, byte for byte: a clone runs every test that reads them.

Their .gitattributes turns off line-ending conversion; without it a checkout could turn the
CRLF messages into LF ones and the parsing tests would silently test something else.
"""

from __future__ import annotations

from tests.conftest import CORPORA


def test_every_corpus_folder_is_in_the_repository_with_its_files() -> None:
    counts = {
        "mime": len(list((CORPORA / "mime").glob("*"))),
        "postmark": len(list((CORPORA / "postmark").glob("*.json"))),
        "ses": len(list((CORPORA / "ses").glob("*.json"))),
        "stripe": len(list((CORPORA / "stripe").glob("*.json"))),
    }
    assert counts == {"mime": 278, "postmark": 14, "ses": 19, "stripe": 100}
    assert (CORPORA / "SOURCES.md").is_file()


def test_the_messages_keep_their_line_endings() -> None:
    messages = [path.read_bytes() for path in (CORPORA / "mime").iterdir()]
    assert sum(b"\r\n" in raw for raw in messages) == 119
    assert "* -text -diff" in (CORPORA / ".gitattributes").read_text().splitlines()
