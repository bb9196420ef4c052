"""The search index's words, as the search page must find them (handbook/search.py).

The page itself, its ranking and its stemming are tested in Chromium
(tests/browser/test_search.py); these checks need no build.
"""

from __future__ import annotations

import pytest

from handbook.search import STOP_WORDS, shard_of, terms


@pytest.mark.parametrize(
    ("text", "value"),
    # The published 32-bit FNV-1a test vectors: the page's JavaScript computes the
    # same function, so both must agree with them to agree with each other.
    [("", 0x811C9DC5), ("a", 0xE40C292C), ("foobar", 0xBF9CF968)],
)
def test_shards_are_chosen_by_32_bit_fnv_1a(text: str, value: int) -> None:
    assert shard_of(text, 2**32) == value
    assert shard_of(text, 4096) == value % 4096


def test_a_readers_description_keeps_only_its_subject_words() -> None:
    # "my", "keeps" and "the" say nothing about the subject; the rest are stemmed,
    # so "serving" and "served" are the same word to the index.
    assert terms("My cache keeps serving the stale data") == terms("cache served stale data")
    assert len(terms("cache served stale data")) == 4
    assert not set(terms("my keeps the")) and {"my", "keeps", "the"} <= STOP_WORDS


def test_words_split_on_punctuation_and_underscores_as_in_the_page() -> None:
    # The page splits on anything that is not a letter or digit ([\p{L}\p{N}]+)
    # and, like the index, leaves out one-character words.
    assert terms("retry_budget") == terms("retry budget") == terms("retry-budget")
    assert terms("HTTP/2, p99.9") == ["http", "p99"]
