"""The scrubber's pre-filters never hide a match: a rule's pattern runs only when its
pre-filters pass (issue 14: each pattern compiled costs a failing run about 0.3 ms), so
every text in which the rule would replace something (its pattern matches and its
validator accepts) must pass them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_scrub import BENIGN, POSITIVE, SECRETS
from test_scrub_families import BENIGN_FAMILIES, FAMILIES, NEW_SECRETS

from localtelemetry._record import scrub as _scrub

STAGES = range(len(_scrub._get_filters()))


def _hidden(text: str) -> list[str]:
    """The stages that would replace something in ``text`` but whose pre-filters fail."""
    hidden = []
    for index in STAGES:
        stage = _scrub._stage(index)
        m = stage.compiled().search(text)
        if m is None or _scrub._apply(stage, text, m, lambda p: "ab", {}) is None:
            continue
        _, active = _scrub._pass(text, lambda p: "ab", {}, [index])
        if active != [index]:
            hidden.append(f"{index}:{stage.kind}")
    return hidden


CORPUS = sorted(
    {text for _, text, _ in POSITIVE}
    | {text for _, text, _ in FAMILIES}
    | set(BENIGN)
    | set(BENIGN_FAMILIES)
    | {  # the shapes the pre-filters look for, at their edges
        "hook " + "a1b2c3d4" * 4 + "-" + "0a1b2c3d" + "-" + "e4f5a6b7",
        "signing key " + "abcdefgh" * 4 + "-" + "0a1b2c3d" + "-" + "e4f5a6b7 and more",
        "from 10.20.30.40 and 8.8.8.8",
        "ssn 078-05-1120.",
        "call (415) 555-0199 or 415.555.0199 or 415 555 0199",
    }
)


def test_no_example_is_hidden_by_a_pre_filter() -> None:
    # (text with markers is left out: markers are split off before the pre-filters run)
    hidden = {text: found for text in CORPUS if "<" not in text and (found := _hidden(text))}
    assert hidden == {}


DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=5)
SHAPED = st.lists(
    st.one_of(
        DIGITS,
        st.sampled_from([*".-() :/+\n\t,;'\"=_", "key-", "00", "0", "1-", "(0"]),
        st.text(alphabet="abcdefgh0123456789", min_size=8, max_size=34),
        st.text(alphabet="abcxyzAB", max_size=4),
    ),
    max_size=14,
).map("".join)

SEPARATORS = st.sampled_from([" ", "\n", ", ", ": ", " (", ") ", "'", '"', "; ", ". ", "="])
SECRET_TEXT = st.lists(
    st.one_of(st.one_of(*SECRETS.values()), st.one_of(*NEW_SECRETS.values()), SEPARATORS),
    max_size=6,
).map("".join)


@given(SHAPED)
@settings(max_examples=600, deadline=None)
def test_shaped_text_is_never_hidden(text: str) -> None:
    assert _hidden(text) == []


@given(SECRET_TEXT)
@settings(max_examples=300, deadline=None)
def test_secrets_are_never_hidden(text: str) -> None:
    assert _hidden(text.replace("<", " ")) == []
