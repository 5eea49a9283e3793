"""The shared stages of the rules provider: words as the rules compare them, and sentences."""

from __future__ import annotations

from extraction.sentences import _sentences
from extraction.words import _folded, _same_word, _tokens


def test_words_match_their_plural_their_stem_and_the_head_of_a_compound() -> None:
    assert _same_word("cabinet", "cabinets")
    assert _same_word("huurverlenging", "verlenging")
    assert not _same_word("kitchen", "chicken")


def test_accents_do_not_separate_a_name_from_its_domain() -> None:
    assert _folded("Café Lumière") == _folded("cafe lumiere")


def test_words_that_say_nothing_about_a_project_are_not_tokens() -> None:
    assert _tokens("Re: Quick question about the invoice for Henderson") == {"henderson"}


def test_a_hard_wrapped_paragraph_is_one_sentence_and_a_list_item_another() -> None:
    flat, sentences = _sentences("The site visit is on\nFriday at 10am.\n\n- Bring the samples")

    assert [s.text for s in sentences] == ["The site visit is on Friday at 10am.", "Bring the samples"]
    assert flat.startswith("The site visit is on Friday")
