"""Names in clear (issue 11, finding 5): every name the API keeps in clear passes a
strict shape, anything else is hashed as ``h:<hash>`` and counted; the app version
must look like a version or it is hashed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import leaky_apps
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localtelemetry._record.documents import (
    CLEAR_NAME_MAX,
    CLEAR_NAME_PATTERN,
    NAME_PATTERN,
    Hasher,
    SafeValues,
    is_clear_name,
    is_clear_version,
    looks_random,
)

from conftest import TESTS, all_files, clean_env, store_documents

HASHER = Hasher(b"n" * 32)

KEPT = [
    "compile",
    "parse",
    "CatalogError",
    "FileNotFoundError",
    "IsADirectoryError",
    "UnicodeDecodeError",
    "HTTPError",
    "reset-key",
    "x86_64",
    "python311",
    "sha256sum",
    "utf8mb4",
    "stage_2",
    "_private",
    "k8s",
    "i18n",
    "12345",
    "a1b2c3d",  # seven characters: too short to look random
    "abcdefghijklmn1",  # fifteen, one change between letters and digits
    "deadbeefcaf",  # eleven hex digits
    "x" * CLEAR_NAME_MAX,
]
HASHED = [
    "db.internal",
    "build-host-03.acme.internal",
    "jane@example.org",
    "src/main",
    "a:b",
    "-x",
    "",
    "x" * (CLEAR_NAME_MAX + 1),
    "ghp_" + "Zq9" * 12,
    "AKIAIOSFODNN7EXAMPLE",
    "a1b2c3d4",  # eight characters, seven changes
    "abcdefghijklmno1",  # sixteen characters, letters and digits
    "deadbeefcafe",  # twelve hex digits
    "3fa9c0e1b2d4",
    "123456",  # six digits in a row
    "acct-4155550199",
    "QxZtRkPvWmNaLsEd",  # base64-like letters
    "naïve",  # not ASCII
]


@pytest.mark.parametrize("name", KEPT)
def test_names_kept_in_clear(name: str) -> None:
    assert is_clear_name(name)
    safe = SafeValues(HASHER)
    assert safe.name(name) == name and safe.redactions == {}


@pytest.mark.parametrize("name", HASHED)
def test_names_hashed(name: str) -> None:
    assert not is_clear_name(name)
    safe = SafeValues(HASHER)
    assert safe.name(name) == "h:" + HASHER.value(name)
    assert safe.redactions == {"name": 1}


_CLEAR_RE = re.compile(CLEAR_NAME_PATTERN)


@given(st.from_regex(_CLEAR_RE, fullmatch=True) | st.text(max_size=50))
@settings(max_examples=300, deadline=None)
def test_clear_names_are_schema_names_of_the_published_shape(text: str) -> None:
    if is_clear_name(text):
        assert _CLEAR_RE.fullmatch(text) and re.fullmatch(NAME_PATTERN, text)
        assert not any(looks_random(r) for r in re.split("[_-]", text))


@pytest.mark.parametrize(
    "version",
    [
        "1",
        "1.2.3",
        "2.0.1",
        "1.0.0rc1",
        "1.0.0a1",
        "1.0.post2",
        "1.0.dev3",
        "0.1.dev12+g1a2b3c4",
        "1.2.3-beta.2",
        "1.2.3+build.7",
        "2024.1.15",
        "v1.4",
        "10.0.19041.1",  # four numbers, but not an address
        "unknown",
        "dev",
    ],
)
def test_versions_kept(version: str) -> None:
    assert is_clear_version(version)
    assert SafeValues(HASHER).version(version) == version


@pytest.mark.parametrize(
    "version",
    [
        "Zq9Xk2Lm8Np4Rt6Vw1Yz",
        "ghp_" + "Zq9" * 12,
        "1.0.0-AKIAIOSFODNN7EXAMPLE",
        "1.0+a1b2c3d4e5f6a7b8c9d0",
        "latest",
        "jane-laptop",
        "1..2",
        "1.2.",
        "1.2.3.4",  # a version by shape, but the scrubber takes it for an IPv4 address
    ],
)
def test_versions_hashed(version: str) -> None:
    assert not is_clear_version(version) or version == "1.2.3.4"
    safe = SafeValues(HASHER)
    stored = safe.version(version)
    assert stored == "h-" + HASHER.value(version)
    assert re.fullmatch(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$", stored)  # the schema's
    assert safe.redactions == {"version": 1}


# -- real subprocesses -------------------------------------------------------------------


def _record(tmp_path: Path, which: str, command: str) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    base = tmp_path / "store"
    proc = subprocess.run(
        [sys.executable, str(TESTS / "leaky_apps.py"), which, command, "--telemetry"],
        env=clean_env(base, home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "telemetry:" not in proc.stderr, proc.stderr  # the recorder did not fail
    return base / {"typer": "leakyt", "click": "leakyc", "version": "leakyv"}[which]


def _planted_words() -> list[str]:
    """The telling pieces of the odd names (a whole name, its dotted parts, tokens)."""
    words = set(leaky_apps.ODD_NAMES.values())
    for name in leaky_apps.ODD_NAMES.values():
        words.update(p for p in re.split(r"[.\-]", name) if len(p) >= 5)
    return sorted(words - {"build", "parse", "internal", "example"})


@pytest.mark.parametrize(("which", "command"), [("typer", "names"), ("click", "cnames")])
def test_odd_names_never_reach_the_store(tmp_path: Path, which: str, command: str) -> None:
    store = _record(tmp_path, which, command)
    blob = b"".join(p.read_bytes() for p in all_files(store))
    for word in _planted_words():
        assert word.encode() not in blob, word
    documents = store_documents(store)
    (build,) = [d["payload"] for d in documents if d["kind"] == "build"]
    assert build["name"].startswith("h:") and build["phases"][0]["name"].startswith("h:")
    assert all(k.startswith("h:") for k in build["counters"]) and build["counters"]
    assert build["error_kind"] is None
    (command_doc,) = [d["payload"] for d in documents if d["kind"] == "cli-command"]
    assert command_doc["error_kind"].startswith("h:")
    (summary,) = [d["payload"] for d in documents if d["kind"] == "run-summary"]
    # build, phase, counter, warning, role, filter, value, snapshot, count, error kind
    assert summary["redactions"]["name"] == 10


def test_a_version_that_is_not_a_version_is_hashed(tmp_path: Path) -> None:
    store = _record(tmp_path, "version", "vgo")
    blob = b"".join(p.read_bytes() for p in all_files(store))
    assert leaky_apps.ODD_VERSION.encode() not in blob
    documents = store_documents(store)
    versions = {d["app"]["version"] for d in documents}  # type: ignore[index]
    assert len(versions) == 1 and versions.pop().startswith("h-")
    (summary,) = [d["payload"] for d in documents if d["kind"] == "run-summary"]
    assert summary["redactions"] == {"version": 1}


def test_usual_versions_are_checked_without_the_scrubber() -> None:
    from localtelemetry._record.documents import _may_match_a_rule

    for version in ("2.0.1", "1.0.0rc1", "1.2.3.post1", "2.0.100", "2024.10.15", "0.1.dev12"):
        assert not _may_match_a_rule(version), version
    for version in ("1.2.3.4", "10.0.19041.1", "415.555.0199", "1.0+4111111111111111"):
        assert _may_match_a_rule(version), version
