"""Principle 7: retention limits, foreign files, bounded reads; StoreLocation creates nothing."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localtelemetry import DocumentError, Limits, StoreLocation
from localtelemetry._ids import ID_PATTERN, id_time_ms, new_id
from localtelemetry._listing import load_document
from localtelemetry._location import MAX_DOCUMENT_BYTES
from localtelemetry._store import Store

from conftest import all_files

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)


def _store(base: Path, **limits: float) -> Store:
    return Store(StoreLocation("app", base=base), limits=Limits(**limits))  # type: ignore[arg-type]


def _put(store: Store, age: timedelta, size: int = 10, kind: str = "build") -> Path:
    id_ = new_id(int((NOW - age).timestamp() * 1000), random_bytes=os.urandom(10))
    return store.write_bytes(kind, id_, b"{" + b" " * (size - 2) + b"}")


def test_location_computes_paths_and_creates_nothing(tmp_path: Path) -> None:
    location = StoreLocation("app", base=tmp_path / "x")
    assert location.directory == tmp_path / "x" / "app"
    assert location.key_path.name == ".hashkey"
    env_location = StoreLocation("app", environ={"LOCALTELEMETRY_DIR": str(tmp_path / "y")})
    assert env_location.directory == tmp_path / "y" / "app"
    assert env_location.relocated_by == "LOCALTELEMETRY_DIR"
    default = StoreLocation("app", environ={"HOME": str(tmp_path / "home")})
    assert default.directory.name == "telemetry"
    assert all_files(tmp_path) == [] and list(tmp_path.iterdir()) == []


def test_retention_by_count_keeps_the_newest(tmp_path: Path) -> None:
    store = _store(tmp_path, max_documents=5)
    paths = [_put(store, timedelta(minutes=60 - i)) for i in range(8)]
    assert store.prune(NOW_MS) == 3
    assert [p.exists() for p in paths] == [False] * 3 + [True] * 5


def test_retention_by_bytes(tmp_path: Path) -> None:
    store = _store(tmp_path, max_bytes=250)
    paths = [_put(store, timedelta(minutes=10 - i), size=100) for i in range(4)]
    store.prune(NOW_MS)
    assert [p.exists() for p in paths] == [False, False, True, True]


def test_retention_by_age(tmp_path: Path) -> None:
    store = _store(tmp_path, max_age_days=30)
    old = _put(store, timedelta(days=31))
    new = _put(store, timedelta(days=29))
    store.prune(NOW_MS)
    assert not old.exists() and new.exists()


def test_foreign_files_are_never_deleted_or_counted(tmp_path: Path) -> None:
    store = _store(tmp_path, max_documents=1)
    _put(store, timedelta(days=1))
    directory = store.directory
    foreign = [directory / "README", directory / "build-notanid.json", directory / "x.json"]
    for path in foreign:
        path.write_text("keep me")
    _put(store, timedelta(days=400))
    store.prune(NOW_MS)
    assert all(p.read_text() == "keep me" for p in foreign)
    assert len(store.entries()) == 1
    assert store.foreign_files() == ["README", "build-notanid.json", "x.json"]


def test_retention_is_applied_when_a_run_writes(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from localtelemetry import Telemetry

    app = typer.Typer()
    telemetry = Telemetry(
        "app", version="1", directory=tmp_path, limits=Limits(max_documents=3), now=lambda: NOW
    )
    telemetry.install(app)

    @app.command()
    def go() -> None:
        pass

    @app.command()
    def other() -> None:
        pass

    store = Store(StoreLocation("app", base=tmp_path))
    for _ in range(3):
        CliRunner().invoke(app, ["go", "--telemetry"])
    assert len(store.entries()) == 3
    kinds = [e.kind for e in store.entries()]
    assert kinds[-2:] == ["cli-command", "run-summary"]


def test_bounded_reads(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b"1," * MAX_DOCUMENT_BYTES + b"1]")
    with pytest.raises(DocumentError, match="over the"):
        load_document(big)
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 5000 + b"]" * 5000)
    with pytest.raises(DocumentError, match="not valid JSON"):
        load_document(deep)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DocumentError):
        load_document(binary)
    array = tmp_path / "array.json"
    array.write_bytes(b"[1, 2]")
    with pytest.raises(DocumentError, match="not a JSON object"):
        load_document(array)


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlinked_documents_are_not_followed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    real = _put(store, timedelta(0))
    link = store.directory / f"build-{new_id(NOW_MS)}.json"
    link.symlink_to(real)
    assert [e.path for e in store.entries()] == [real]
    with pytest.raises(DocumentError, match="symlink"):
        load_document(link)


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = _store(tmp_path)
    path = store.write_bytes("snapshot", new_id(NOW_MS), b"{}")
    assert [p.name for p in store.directory.iterdir()] == [path.name]


@given(st.integers(min_value=0, max_value=2**48 - 1), st.binary(min_size=10, max_size=10))
@settings(max_examples=200, deadline=None)
def test_ids_round_trip_their_time_and_sort_by_it(ms: int, rnd: bytes) -> None:
    id_ = new_id(ms, random_bytes=rnd)
    assert re.fullmatch(ID_PATTERN, id_)
    assert id_time_ms(id_) == ms
    if ms < 2**48 - 1:
        assert new_id(ms + 1, random_bytes=b"\0" * 10) > id_  # later time sorts after
    assert new_id(ms, random_bytes=b"\0" * 10) <= id_ <= new_id(ms, random_bytes=b"\xff" * 10)
