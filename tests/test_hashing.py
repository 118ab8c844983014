"""Principle 3: keyed hashing. Hypothesis checks the invariants."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localtelemetry import KeyFileError
from localtelemetry._hashing import KEY_BYTES, Hasher, load_or_create_key, read_key, replace_key

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))
text = st.text(min_size=0, max_size=200)


@given(text)
@settings(max_examples=300, deadline=None)
def test_hash_is_deterministic_keyed_and_never_contains_the_input(value: str) -> None:
    a, b = Hasher(KEY_A), Hasher(KEY_B)
    assert a.value(value) == a.value(value)
    assert a.value(value) != b.value(value)
    digest = a.value(value)
    assert len(digest) == 32 and int(digest, 16) >= 0
    if len(value) >= 4:
        assert value not in digest


@given(text, text)
@settings(max_examples=300, deadline=None)
def test_different_values_give_different_hashes(x: str, y: str) -> None:
    if x != y:
        assert Hasher(KEY_A).value(x) != Hasher(KEY_A).value(y)


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="/\0"), min_size=1, max_size=12),
        min_size=1,
        max_size=6,
    )
)
@settings(max_examples=200, deadline=None)
def test_path_descriptor_never_holds_a_name(parts: list[str]) -> None:
    path = "/" + "/".join(parts)
    descriptor = Hasher(KEY_A, home="/home/u", windows=False).path_descriptor(path)
    assert set(descriptor) == {"hash", "extension", "is_absolute", "under_home"}
    assert descriptor["is_absolute"] is True
    for part in parts:
        if len(part) >= 3:
            assert part not in str(descriptor["hash"])
    ext = descriptor["extension"]
    assert ext is None or (isinstance(ext, str) and len(ext) <= 11 and ext.startswith("."))


def test_path_normalization_and_flags() -> None:
    h = Hasher(KEY_A, home="/home/jane", windows=False)
    assert h.path_descriptor("a/./b/../c.TXT")["hash"] == h.path_descriptor("a/c.TXT")["hash"]
    assert h.path_descriptor("a/c.TXT")["extension"] == ".txt"
    assert h.path_descriptor("/home/jane/x.py")["under_home"] is True
    assert h.path_descriptor("~/x.py")["under_home"] is True
    assert h.path_descriptor("/home/janet/x.py")["under_home"] is False
    assert h.path_descriptor("rel/x")["is_absolute"] is False
    assert h.path_descriptor("archive.weird-extension!")["extension"] is None
    win = Hasher(KEY_A, home="C:\\Users\\Jane", windows=True)
    assert win.path_descriptor("C:\\Users\\Jane\\a.CSV")["under_home"] is True
    assert (
        win.path_descriptor("c:/users/jane/A.csv")["hash"]
        == win.path_descriptor("C:\\Users\\Jane\\a.CSV")["hash"]
    )


def test_domains_are_separate() -> None:
    h = Hasher(KEY_A)
    assert h.value("/etc/x") != h.path_hash("/etc/x") != h.fingerprint("/etc/x")


def test_key_id_reveals_nothing_and_is_stable() -> None:
    assert Hasher(KEY_A).key_id == Hasher(KEY_A).key_id
    assert Hasher(KEY_A).key_id != Hasher(KEY_B).key_id
    assert KEY_A.hex()[:16] != Hasher(KEY_A).key_id


def test_key_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / ".hashkey"
    key = load_or_create_key(path)
    assert len(key) == KEY_BYTES
    assert load_or_create_key(path) == key
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".hashkey"]


def test_corrupt_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / ".hashkey"
    for content in (b"", b"x" * 31, b"x" * 33, b"x" * 10_000):
        path.write_bytes(content)
        with pytest.raises(KeyFileError, match="corrupt"):
            read_key(path)


def test_replace_key_rotates(tmp_path: Path) -> None:
    path = tmp_path / ".hashkey"
    old = load_or_create_key(path)
    new = replace_key(path)
    assert new != old and read_key(path) == new


def test_wrong_key_length_is_refused() -> None:
    with pytest.raises(KeyFileError):
        Hasher(b"short")
