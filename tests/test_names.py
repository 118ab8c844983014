"""The recorder skips the scrubber for short plain words; prove no rule could match them."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from localtelemetry._record.documents import NAME_PATTERN, PLAIN_WORD_PATTERN
from localtelemetry._record.scrub import scrub

_PLAIN_WORD_RE = re.compile(PLAIN_WORD_PATTERN)
NAME_RE = re.compile(NAME_PATTERN)


@given(st.from_regex(_PLAIN_WORD_RE, fullmatch=True))
@settings(max_examples=500, deadline=None)
def test_plain_words_are_never_changed_by_the_scrubber(word: str) -> None:
    assert NAME_RE.match(word)
    assert scrub(word, hash_path=lambda s: "0" * 32).text == word
