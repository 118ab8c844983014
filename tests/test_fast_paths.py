"""The string code that replaced patterns and library calls on the hot paths (issue 14)
gives exactly what the code it replaced gives: each is checked against its reference
(the pattern itself, pathlib, the old loop) on generated input."""

from __future__ import annotations

import os
import re
import string
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from localtelemetry._contract import MAX_EXTENSION_CHARS
from localtelemetry._record import known as _known
from localtelemetry._record import scrub as _scrub
from localtelemetry._store import pure_path

SETTINGS = settings(max_examples=400, deadline=None)


# -- the scrubber's helpers ------------------------------------------------------------

MARKERISH = st.lists(
    st.sampled_from(
        [
            "<redacted:email>",
            "<redacted:api-key>",
            "<redacted:-x>",
            "<redacted:a--b>",
            "<redacted:>",
            "<redacted:A>",
            "<path:ab12>",
            "<path:ab12.json>",
            "<path:ab12.>",
            "<path:ab12.toolongext>",
            "<path:xyz>",
            "<path:>",
            "<path:ab.c.d>",
            "<",
            ">",
            "<redacted:",
            "<path:",
            " ",
            "a",
            "\n",
        ]
    )
    | st.text(max_size=4),
    max_size=12,
).map("".join)


@given(MARKERISH)
@SETTINGS
def test_marker_split_is_the_patterns_split(text: str) -> None:
    assert _scrub._split_markers(text) == re.split(f"({_scrub.MARKER_PATTERN})", text)


@given(MARKERISH, st.integers(min_value=0, max_value=40))
@SETTINGS
def test_marker_at_is_the_patterns_match(text: str, start: int) -> None:
    m = re.compile(_scrub.MARKER_PATTERN).match(text, start)
    assert _scrub._marker_at(text, start) == (m.end() if m else -1)


@given(st.text(alphabet=".aZ09-_é/" + "\n", max_size=14))
@SETTINGS
@example("a.b")
@example(".bashrc")
@example("x..md")
@example("x.ABCDEFGHI")
@example("x.ABCDEFGHIJ")
@example("x.ABCDEFGHIJK")
@example("x.md\n")
def test_extension_is_the_patterns(last: str) -> None:
    m = re.search(rf"[^.]\.([A-Za-z0-9]{{1,{MAX_EXTENSION_CHARS}}})\Z", last)
    assert _scrub._extension(last) == ("." + m.group(1).lower() if m else "")


@given(st.text(alphabet="ab\\/. ", max_size=16))
@SETTINGS
def test_path_components_split_like_the_pattern(p: str) -> None:
    assert [c for c in p.replace("\\", "/").split("/") if c] == [
        c for c in re.split(r"[\\/]+", p) if c
    ]


@given(st.text(max_size=30))
@SETTINGS
@example("a\x00b\tc\nd\x1f\x7f\x9f\xa0")
def test_control_characters_are_replaced_like_the_pattern(text: str) -> None:
    assert _scrub._replace_control(text) == re.sub(_scrub._CONTROL, " ", text)


# -- known values ----------------------------------------------------------------------

PIECE_TEXT = st.text(
    alphabet=st.sampled_from(
        [*",;=:/\\|&@?#!*+()[]{}<>\"'`ab.-_~é ", "\t", "\n", "\u2003", "\x1c", "\x85"]
    ),
    max_size=20,
)


@given(st.lists(PIECE_TEXT, max_size=4))
@SETTINGS
def test_parts_are_the_runs_the_pattern_finds(values: list[str]) -> None:
    reference = [p.strip(".-_~") for p in re.findall(_known._PIECE, "\n".join(values))]
    found = [p.strip(".-_~") for p in "\n".join(values).translate(_known._PIECE_SEPARATORS).split()]
    assert found == reference


ASCII_TEXT = st.text(alphabet="abAB01 -_/.x", max_size=40)
ASCII_VALUE = st.text(alphabet="abAB01-_/.x", min_size=3, max_size=8)


@given(ASCII_TEXT, st.lists(ASCII_VALUE, min_size=1, max_size=5))
@SETTINGS
@example("bob bobsled Bob_2 bob's", ["bob"])
@example("41550 4155 x4155", ["4155"])
@example("abcdef abc", ["abc", "abcdef", "ABC"])
def test_ascii_spans_are_the_patterns(text: str, present: list[str]) -> None:
    pattern = _known.Redactor._compile(present)
    assert _known._ascii_spans(text, present) == [m.span() for m in pattern.finditer(text)]


# -- paths as text ----------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX spelling; pathlib decides elsewhere")
@given(st.lists(st.text(alphabet="/.a b", max_size=6), min_size=1, max_size=4))
@SETTINGS
@example(["//x", "y"])
@example(["///x/./y/"])
@example([""])
@example(["a", "/abs"])
def test_pure_path_spells_paths_as_pathlib_does(parts: list[str]) -> None:
    assert pure_path(*parts) == str(PurePosixPath(*parts))
    assert Path(pure_path(*parts)) == Path(*parts)


def test_string_alphabets_are_what_they_say() -> None:
    assert set(_scrub._EXT_CHARS) == set(string.ascii_letters + string.digits)
    assert sorted(_scrub._MARKER_KIND) == sorted(string.ascii_lowercase + string.digits)


# -- list: the newest documents selected, not sorted --------------------------------------


@given(
    st.dictionaries(
        st.sampled_from(["build", "snapshot", "cli-command"]),
        st.lists(st.text(alphabet="0123abc", min_size=1, max_size=4), unique=True, max_size=12),
    ),
    st.integers(min_value=0, max_value=15),
)
@SETTINGS
def test_newest_first_is_the_full_sort(by_kind: dict[str, list[str]], wanted: int) -> None:
    from localtelemetry._cli.commands import _newest_first

    everything = sorted(((i, k) for k, ids in by_kind.items() for i in ids), reverse=True)
    assert list(_newest_first(by_kind, wanted)) == everything


# -- the path stage's reduced patterns ----------------------------------------------------

PATHISH = st.lists(
    st.sampled_from(
        [
            "/",
            "\\",
            "\\\\",
            "C:",
            "c:\\",
            "d:/",
            ":",
            "'",
            '"',
            "`",
            "~",
            "~user/",
            ".",
            "..",
            "./",
            " ",
            "\t",
            "\n",
            "a",
            "Zz",
            "é",
            "1",
            "-",
            "_",
            "=",
            ",",
            ";",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "<",
            ">",
            "|",
            "*",
            "?",
            "Program Files",
            "\u00a0",
            "\u2028",
        ]
    ),
    max_size=24,
).map("".join)


@given(PATHISH)
@SETTINGS
@example("see '/tmp/a b/c.txt' and \"C:\\Program Files\\x y\\z\" or \\\\srv\\share\\f ~/n")
@example("it's at /home/jane/x.md, not C:/data")
def test_the_path_stage_finds_with_its_reduced_pattern_what_the_whole_pattern_finds(
    text: str,
) -> None:
    """A failing run compiles only the path alternatives its message can match (issue 14):
    every match, in every group, must be the whole pattern's."""
    whole = re.compile(_scrub._PATH)
    reduced = re.compile(_scrub._path_pattern(*_scrub._path_variant(text)))
    assert [m.span() for m in reduced.finditer(text)] == [m.span() for m in whole.finditer(text)]
    for start in range(len(text) + 1):  # the scrubber searches again from inside a text
        a, b = reduced.search(text, start), whole.search(text, start)
        assert (a and a.span()) == (b and b.span())


def test_a_message_compiles_one_path_variant_even_when_a_marker_splits_it() -> None:
    """The path stage picks its variant from the whole free text and retries within a
    part with the same pattern (review of issue 14: a part's own variant was compiled
    a second time when an earlier stage's marker split the message)."""
    (path_stage,) = [
        s
        for s in _scrub._get_stages()
        if s.mode == _scrub._PATH_MODE  # type: ignore[attr-defined]
    ]
    path_stage.variants.clear()
    text = "it's bob@example.com at /home/x/y.txt"
    result = _scrub.scrub(text, hash_path=lambda p: "ab")
    assert "<redacted:email>" in result.text and "<path:ab.txt>" in result.text
    assert list(path_stage.variants) == [_scrub._path_variant(text)]
