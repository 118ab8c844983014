"""Principle 3: keyed hashing. Hypothesis checks the invariants."""

from __future__ import annotations

import os
import posixpath
import re
import stat
from pathlib import Path

import blake3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localtelemetry import KeyFileError
from localtelemetry._contract.schemas import load_schema
from localtelemetry._record.documents import Hasher
from localtelemetry._store import KEY_BYTES
from localtelemetry._store.store import load_or_create_key, read_key, replace_key

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))
text = st.text(min_size=0, max_size=200)


def keyed_blake3(key: bytes, domain: str, data: str | bytes) -> str:
    """The documented construction, computed here without the Hasher: keyed BLAKE3 of
    ``domain NUL data``, 128 bits in hex. Stores written by older versions are compared
    with new documents, so a change of the construction must fail a test."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    return blake3.blake3(domain.encode() + b"\0" + raw, key=key).hexdigest(length=16)


@given(text)
@settings(max_examples=300, deadline=None)
def test_hash_is_the_keyed_blake3_of_the_value_and_depends_on_the_key(value: str) -> None:
    a, b = Hasher(KEY_A), Hasher(KEY_B)
    digest = a.value(value)
    assert digest == keyed_blake3(KEY_A, "value", value)
    assert b.value(value) == keyed_blake3(KEY_B, "value", value)
    assert digest != b.value(value)
    assert digest != blake3.blake3(value.encode("utf-8", "surrogatepass")).hexdigest(length=16)
    assert re.fullmatch(r"[0-9a-f]{32}", digest)


@given(text, text)
@settings(max_examples=300, deadline=None)
def test_different_values_give_different_hashes(x: str, y: str) -> None:
    if x != y:
        assert Hasher(KEY_A).value(x) != Hasher(KEY_A).value(y)


EXTENSION_IN_SCHEMA = load_schema("envelope")["$defs"]["path_descriptor"]["properties"][
    "extension"
]["pattern"]
_NAME = st.text(alphabet=st.characters(blacklist_characters="/\0"), min_size=1, max_size=12)
# Names with a dot in them more often than text alone gives: the extension is the one
# piece of a name a descriptor may keep.
_SUFFIX = st.sampled_from(["", ".", ".py", ".TXT", ".tar.gz", ".x!"]) | _NAME.map(".".__add__)


@given(st.lists(_NAME, min_size=1, max_size=6), _SUFFIX)
@settings(max_examples=200, deadline=None)
def test_path_descriptor_never_holds_a_name(parts: list[str], suffix: str) -> None:
    path = "/" + "/".join(parts) + suffix
    descriptor = Hasher(KEY_A, home="/home/u", windows=False).path_descriptor(path)
    assert set(descriptor) == {"hash", "extension", "is_absolute", "under_home"}
    assert descriptor["is_absolute"] is True
    # The name reaches the document only through the keyed hash of the whole path...
    assert descriptor["hash"] == keyed_blake3(KEY_A, "path", posixpath.normpath(path))
    # ...and an extension only when it is one the schema allows, lowercased.
    suffix = posixpath.splitext(posixpath.basename(posixpath.normpath(path)))[1].lower()
    allowed = re.search(EXTENSION_IN_SCHEMA, suffix)
    assert descriptor["extension"] == (suffix if allowed else None)


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
    hashes = [h.value("/etc/x"), h.path_hash("/etc/x"), h.fingerprint("/etc/x")]
    assert len(set(hashes)) == 3
    assert hashes == [keyed_blake3(KEY_A, d, "/etc/x") for d in ("value", "path", "fingerprint")]
    assert h.fingerprint(b"/etc/x") == h.fingerprint("/etc/x")  # bytes or text: one hash


def test_key_id_reveals_nothing_and_is_stable() -> None:
    # A keyed hash of a constant: the same key gives the same id and tells nothing else.
    expected = blake3.blake3(b"localtelemetry key id", key=KEY_A).hexdigest(length=8)
    assert Hasher(KEY_A).key_id == expected
    assert Hasher(KEY_A).key_id != Hasher(KEY_B).key_id


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
