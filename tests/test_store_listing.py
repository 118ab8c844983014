"""Issue 4: status and list stay fast on large stores without changing what they say."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_store import NOW, _put

from localtelemetry._cli import commands as _commands
from localtelemetry._cli.render import status_text
from localtelemetry._contract import new_id
from localtelemetry._store import (
    DOCUMENT_NAME_RE,
    KINDS,
    OWN_FILES,
    TEMP_NAME_RE,
    StoreLocation,
    _user_state_dir,
)
from localtelemetry._store.store import Store

DOC = b'{"kind": "build", "run_id": "r", "payload": {"name": "x", "phases": []}}'


def _store(base: Path) -> Store:
    return Store(StoreLocation("app", base=base))


def _fill(store: Store, n: int) -> list[Path]:
    return [
        store.write_bytes(
            "build" if i % 3 else "snapshot",
            new_id(int((NOW - timedelta(minutes=n - i)).timestamp() * 1000)),
            DOC + b" " * i,
        )
        for i in range(n)
    ]


def test_names_only_listing_matches_the_stat_listing(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _fill(store, 30)
    (store.directory / "build-notanid.json").write_text("x")
    (store.directory / f"build-{new_id(1)}.json\n").write_text("x")  # a newline: not ours
    os.mkdir(store.directory / f"build-{new_id(2)}.json")  # a directory: not a document
    full = store.entries()
    light = store.entries(sizes=False)
    assert [(e.kind, e.id, e.path) for e in full] == [(e.kind, e.id, e.path) for e in light]
    assert all(e.size > 0 for e in full) and all(e.size == -1 for e in light)
    assert all(DOCUMENT_NAME_RE.match(e.name) for e in light)
    assert store.sizes([e.name for e in light]) == [e.size for e in full]
    by_kind, foreign = store.ids(foreign=True)
    assert sorted((i, k) for k, ids in by_kind.items() for i in ids) == [
        (e.id, e.kind) for e in full
    ]
    assert sorted(foreign) == store.foreign_files()
    assert store.ids(kinds=frozenset({"snapshot"}))[0]["build"] == []


def test_status_estimates_bytes_of_large_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    paths = _fill(store, 60)
    exact = _commands.status(store, {})
    assert exact["bytes"] == sum(p.stat().st_size for p in paths)
    assert exact["bytes_estimated"] is False and exact["bytes_sampled"] is None
    assert "about" not in status_text(exact)
    monkeypatch.setattr(_commands, "EXACT_SIZES_UP_TO", 10)
    monkeypatch.setattr(_commands, "SIZE_SAMPLE", 20)
    estimate = _commands.status(store, {})
    assert estimate["bytes_estimated"] is True
    assert 20 <= estimate["bytes_sampled"] <= 24  # every third document of each kind
    assert abs(estimate["bytes"] - exact["bytes"]) < exact["bytes"] * 0.1
    assert estimate["documents"] == exact["documents"] == 60
    assert estimate["by_kind"]["snapshot"]["count"] == 20
    assert (estimate["oldest"], estimate["newest"]) == (exact["oldest"], exact["newest"])
    assert "about" in status_text(estimate)
    assert f"{estimate['bytes_sampled']} sampled" in status_text(estimate)


def test_list_reads_only_the_documents_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    for i in range(25):
        _put(store, timedelta(minutes=30 - i))
    newest = store.entries()[-1]
    newest.path.write_bytes(b"{not json")
    reads: list[Any] = []
    real = _commands.load_document

    def counting(path: Path) -> dict[str, object]:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(_commands, "load_document", counting)
    shown = _commands.list_documents(store, kind=None, run=None, since=None, limit=5)
    assert len(reads) == 6  # five shown, one unreadable
    assert shown["shown"] == 5 and shown["skipped_unreadable"] == 1
    assert shown["total"] == 24
    assert [r["id"] for r in shown["documents"]] == [e.id for e in store.entries()[-6:-1]]
    mixed = _store(tmp_path / "mixed")
    _fill(mixed, 12)  # builds and snapshots
    rows = _commands.list_documents(mixed, kind=None, run=None, since=None, limit=7)["documents"]
    assert [(r["id"], r["kind"]) for r in rows] == [(e.id, e.kind) for e in mixed.entries()[-7:]]
    reads.clear()
    everything = _commands.list_documents(store, kind=None, run=None, since=None, limit=None)
    assert len(reads) == 25 and everything["total"] == everything["shown"] == 24
    since = _commands.list_documents(
        store, kind=None, run=None, since=NOW - timedelta(minutes=10), limit=None
    )
    assert since["total"] == 4  # 10..6 minutes old, and the newest is unreadable


@pytest.mark.parametrize(
    "env",
    [
        {"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"},
        {"XDG_STATE_HOME": "/x//state/", "HOME": "/home/u"},
        {"XDG_STATE_HOME": "", "HOME": "/home/u/"},
        {"XDG_STATE_HOME": "   ", "HOME": "/home/u"},
        {"HOME": "/"},
        {"XDG_STATE_HOME": "relative/state", "HOME": "/home/u"},
    ],
)
def test_the_default_store_is_where_platformdirs_says(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    expected = Path(platformdirs.user_state_path("mycli"))
    assert Path(_user_state_dir("mycli", os.environ)) == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG state directory")
@pytest.mark.parametrize(
    ("injected", "where"),
    [
        ({"HOME": "/fake/home"}, "/fake/home/.local/state/mycli/telemetry"),
        ({"HOME": "/fake/home", "XDG_STATE_HOME": "/fake/state"}, "/fake/state/mycli/telemetry"),
        ({"HOME": "/fake/home", "LOCALTELEMETRY_DIR": "~/t"}, "/fake/home/t/mycli"),
    ],
)
def test_an_injected_environ_decides_where_documents_land(
    injected: dict[str, str], where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Telemetry(environ=...)`` reads none of the real environment's variables: the
    real ones point at a trap that must stay empty."""
    from localtelemetry import Telemetry

    trap = tmp_path / "trap"
    monkeypatch.setenv("HOME", str(trap))
    monkeypatch.setenv("XDG_STATE_HOME", str(trap / "state"))
    monkeypatch.setenv("LOCALTELEMETRY_DIR", str(trap / "dir"))
    fake_root = tmp_path / "fake"
    environ = {k: v.replace("/fake", str(fake_root)) for k, v in injected.items()}
    telemetry = Telemetry("mycli", version="1.0", environ=environ)
    expected = where.replace("/fake", str(fake_root))
    assert str(telemetry.location) == expected
    run = telemetry.begin_run(True)
    assert run is not None
    telemetry.end_run(run, 0)
    assert len(list(Path(expected).glob("run-summary-*.json"))) == 1
    assert not trap.exists()


_NAME_PARTS = st.sampled_from(
    ["cli-command-", "build-", "snapshot-", "run-summary-", "build", "builds-", "", ".tmp-"]
)
_ID_LIKE = st.one_of(
    st.integers(0, 2**40).map(new_id),
    st.text(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.é",
        min_size=24,
        max_size=28,
    ),
    st.text(min_size=0, max_size=8).filter(lambda t: "/" not in t and "\x00" not in t),
)
_SUFFIX = st.sampled_from(
    [".json", ".JSON", ".json.bak", "", ".jso", "-12-0123456789abcdef.partial"]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entries=st.lists(
        st.tuples(
            st.one_of(
                st.tuples(_NAME_PARTS, _ID_LIKE, _SUFFIX).map("".join),
                st.sampled_from([".hashkey", ".retention", ".retention-log", "notes.txt"]),
            ),
            st.sampled_from(["file", "file", "file", "directory", "symlink"]),
        ),
        max_size=25,
        unique_by=lambda e: e[0],
    ),
    kinds=st.one_of(st.none(), st.sets(st.sampled_from(KINDS), min_size=1).map(frozenset)),
)
def test_ids_classifies_every_name_like_the_patterns(
    tmp_path_factory: pytest.TempPathFactory,
    entries: list[tuple[str, str]],
    kinds: frozenset[str] | None,
) -> None:
    """Issue 14: the one-pass listing says exactly what the published name patterns say:
    documents are regular files whose whole name matches DOCUMENT_NAME_RE; foreign files
    are names that are neither document-shaped, temp files nor our own files."""
    store = _store(tmp_path_factory.mktemp("store"))
    directory = store.ensure_directory()
    made = []
    for name, what in entries:
        if name in ("", ".", "..") or len(name.encode()) > 255:
            continue
        path = directory / name
        if what == "file":
            path.write_bytes(b"{}")
        elif what == "directory":
            path.mkdir()
        else:
            path.symlink_to(directory / "elsewhere")
        made.append((name, what))
    expected: dict[str, list[str]] = {k: [] for k in KINDS}
    foreign = []
    for name, what in made:
        match = DOCUMENT_NAME_RE.fullmatch(name)
        if match:
            if what == "file" and (kinds is None or match.group(1) in kinds):
                expected[match.group(1)].append(match.group(2))
        elif name not in OWN_FILES and not TEMP_NAME_RE.fullmatch(name):
            foreign.append(name)
    by_kind, others = store.ids(kinds=kinds, foreign=True)
    assert {k: sorted(v) for k, v in by_kind.items()} == {k: sorted(v) for k, v in expected.items()}
    assert sorted(others) == sorted(foreign)
    assert {k: sorted(v) for k, v in store.ids(kinds=kinds)[0].items()} == {
        k: sorted(v) for k, v in expected.items()
    }
