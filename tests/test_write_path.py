"""Issue 4: the recording path writes its documents without importing orjson.

``encode_document`` must write the same bytes ``serialize`` (orjson) writes for
everything a document holds, and refuse what JSON cannot hold, like orjson does.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localtelemetry._record.documents import (
    encode_document,
    encode_envelope,
    encode_run_part,
    envelope,
    serialize,
)

_FLOATS = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda f: "e" not in repr(f)  # Python writes 1e-05 where orjson writes 0.00001
)
_SCALARS = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _FLOATS | st.text()
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(st.dictionaries(st.text(), _VALUES, max_size=8))
@settings(max_examples=150, deadline=None)
def test_same_bytes_as_orjson(document: dict[str, Any]) -> None:
    assert encode_document(document) == serialize(document)


_KINDS = st.sampled_from(["cli-command", "build", "snapshot", "run-summary"])
_MOMENTS = st.datetimes(timezones=st.just(timezone.utc))


@given(
    kind=_KINDS,
    texts=st.lists(st.text(), min_size=5, max_size=5),
    created_at=_MOMENTS,
    environment=st.dictionaries(st.text(), _SCALARS, max_size=8),
    payload=st.dictionaries(st.text(), _VALUES, max_size=8),
)
@settings(max_examples=150, deadline=None)
def test_the_run_part_encoded_once_gives_the_same_bytes(
    kind: str,
    texts: list[str],
    created_at: datetime,
    environment: dict[str, Any],
    payload: dict[str, Any],
) -> None:
    """A run encodes the members every document shares once (issue 14); each document
    must still be exactly the bytes of its whole envelope, as orjson writes it."""
    id_, run_id, app_name, app_version, key_id = texts
    run_part = encode_run_part(
        app_name=app_name, app_version=app_version, environment=environment, key_id=key_id
    )
    per_document = {"kind": kind, "id_": id_, "run_id": run_id, "created_at": created_at}
    whole = envelope(
        **per_document,
        app_name=app_name,
        app_version=app_version,
        environment=environment,
        key_id=key_id,
        payload=payload,
    )
    data = encode_envelope(**per_document, run_part=run_part, payload=payload)
    assert data == serialize(whole) == encode_document(whole)
    assert list(orjson.loads(data)) == [
        "schema", "kind", "id", "run_id", "created_at",
        "app", "producer", "environment", "hashing", "payload",
    ]  # fmt: skip


def test_real_documents_and_odd_values() -> None:
    document = {
        "text": 'quote " backslash \\ newline \n tab \t nul \x00 del \x7f \u2028 é 😀',
        "numbers": [0, -1, 2**53, 1.5, -0.0, 1e16, 123.456],
        "nested": {"empty_list": [], "empty_object": {}, "tuple": (1, 2)},
        "flags": [True, False, None],
    }
    assert orjson.loads(encode_document(document)) == orjson.loads(serialize(document))
    # Not finite: null, like orjson.
    assert orjson.loads(encode_document({"x": math.inf, "y": math.nan})) == {"x": None, "y": None}


@pytest.mark.parametrize("value", [{1: "x"}, {"x": object()}, {"x": "\ud800"}])
def test_refuses_what_json_cannot_hold(value: dict[Any, Any]) -> None:
    # Run.write catches both and skips the document.
    with pytest.raises((TypeError, ValueError)):
        encode_document(value)
    with pytest.raises((TypeError, ValueError)):
        serialize(value)


# The recording path checks names with string methods instead of compiling regexes; each
# check must accept exactly what its published pattern fully matches.
_CHECKS = [
    ("localtelemetry._record.documents", "is_name", "NAME_PATTERN"),
    ("localtelemetry._record.documents", "is_plain_word", "PLAIN_WORD_PATTERN"),
    ("localtelemetry._record.recorder", "is_flag", "FLAG_PATTERN"),
    ("localtelemetry._record.documents", "is_extension", "EXTENSION_PATTERN"),
    ("localtelemetry._contract", "is_app_name", "APP_NAME_PATTERN"),
    ("localtelemetry._contract", "is_version", "VERSION_PATTERN"),
]
_ALPHABET = st.sampled_from("aZ09_.:-+/ \n\tÉé٣²") | st.characters()


@pytest.mark.parametrize(("module", "check", "pattern"), _CHECKS)
@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_string_checks_match_their_patterns(
    module: str, check: str, pattern: str, data: st.DataObject
) -> None:
    import importlib
    import re

    mod = importlib.import_module(module)
    regex = re.compile(getattr(mod, pattern))
    text = data.draw(
        st.from_regex(regex, fullmatch=True) | st.text(_ALPHABET, max_size=70), label="text"
    )
    assert getattr(mod, check)(text) == (regex.fullmatch(text) is not None), repr(text)
    assert not getattr(mod, check)(text + "\n")  # where `$` would have let it through


def test_the_published_patterns_compile_and_match() -> None:
    import re

    from localtelemetry._contract import APP_NAME_PATTERN, VERSION_PATTERN
    from localtelemetry._record.documents import NAME_PATTERN, PLAIN_WORD_PATTERN
    from localtelemetry._store import DOCUMENT_NAME_RE, TEMP_NAME_RE

    NAME_RE, _PLAIN_WORD_RE = re.compile(NAME_PATTERN), re.compile(PLAIN_WORD_PATTERN)
    APP_NAME_RE, VERSION_RE = re.compile(APP_NAME_PATTERN), re.compile(VERSION_PATTERN)

    assert NAME_RE.match("phase_1") and _PLAIN_WORD_RE.match("phase")
    assert DOCUMENT_NAME_RE.match("build-" + "0" * 26 + ".json")
    assert TEMP_NAME_RE.match(".tmp-12-" + "a" * 16 + ".partial")
    assert APP_NAME_RE.match("mycli") and VERSION_RE.match("1.2.3+local")


def test_subclasses_are_written_as_their_base_type_like_orjson() -> None:
    import enum

    class Mode(str, enum.Enum):
        fast = "fast"

    class Level(enum.IntEnum):
        high = 3

    class Text(str):
        def __str__(self) -> str:
            return "not this"

    class Mapping(dict[str, Any]):
        pass

    class Items(list[Any]):
        pass

    document = {
        "mode": Mode.fast,
        "level": Level.high,
        "text": Text('plain "quoted"'),
        "mapping": Mapping(a=Items([Mode.fast, 1.5])),
    }
    assert encode_document(document) == serialize(document)

    class Sly(str):  # a key whose own methods would let a quote and a newline through
        def isprintable(self) -> bool:
            return True

        def __contains__(self, item: object) -> bool:
            return False

    assert orjson.loads(encode_document({Sly('a\nb"c'): 1})) == {'a\nb"c': 1}
    assert orjson.loads(encode_document(document)) == {
        "mode": "fast",
        "level": 3,
        "text": 'plain "quoted"',
        "mapping": {"a": ["fast", 1.5]},
    }
