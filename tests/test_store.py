"""Principle 7: retention limits, foreign files, bounded reads; StoreLocation creates nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localtelemetry import DocumentError, Limits, StoreLocation
from localtelemetry._contract import ID_PATTERN, id_time_ms, new_id
from localtelemetry._store import MAX_DOCUMENT_BYTES, TEMP_NAME_RE
from localtelemetry._store.listing import load_document
from localtelemetry._store.store import Store

from conftest import all_files

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)
DOCUMENT_NAME = re.compile(rf"build-({ID_PATTERN})\.json")


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


def _big_document(n: int, size: int) -> bytes:
    """A JSON document of ``size`` bytes: big enough that writing it takes a while."""
    head = b'{"n": %d, "pad": "' % n
    return head + b"x" * (size - len(head) - 2) + b'"}'


def test_a_concurrent_reader_sees_each_document_whole_or_not_at_all(tmp_path: Path) -> None:
    store = _store(tmp_path)
    documents = {new_id(NOW_MS + n): _big_document(n, 4 << 20) for n in range(12)}
    directory = store.location.directory
    whole: set[str] = set()
    partial: list[tuple[str, int]] = []
    strays: set[str] = set()
    done = threading.Event()

    def read_what_appears() -> None:
        while not done.is_set():
            try:
                names = os.listdir(directory)
            except FileNotFoundError:
                continue
            for name in names:
                match = DOCUMENT_NAME.fullmatch(name)
                if match is None:
                    if not TEMP_NAME_RE.match(name):
                        strays.add(name)
                elif name not in whole:
                    data = (directory / name).read_bytes()
                    if data == documents[match.group(1)]:
                        whole.add(name)
                    else:
                        partial.append((name, len(data)))

    reader = threading.Thread(target=read_what_appears)
    reader.start()
    try:
        for id_, data in documents.items():
            store.write_bytes("build", id_, data)
    finally:
        done.set()
        reader.join()
    assert not partial, f"a reader saw documents before they were whole: {partial[:3]}"
    assert strays == set(), "files named neither <kind>-<id>.json nor .tmp-PID-RANDOM.partial"
    assert sorted(os.listdir(directory)) == sorted(f"build-{i}.json" for i in documents)


_KILLED_WRITER = """
import os, sys
from localtelemetry import StoreLocation
from localtelemetry._contract import new_id
from localtelemetry._store.store import Store
store = Store(StoreLocation("app", base=sys.argv[1]))
for n in range(40):  # bounded: a few hundred MB at most if no kill comes
    head = b'{"n": %d, "pad": "' % n
    store.write_bytes("build", new_id(1780000000000 + n), head + b"x" * (8 << 20) + b'"}')
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_writer_killed_mid_write_leaves_no_partial_document(tmp_path: Path) -> None:
    base = tmp_path / "base"
    directory = base / "app"
    killed_mid_write = 0
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(base)])
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and writer.poll() is None:
                names = os.listdir(directory) if directory.is_dir() else []
                if any(TEMP_NAME_RE.match(n) and str(writer.pid) in n for n in names):
                    break  # the writer is inside a write: kill it there
        finally:
            writer.kill()
            writer.wait(timeout=60)
        names = os.listdir(directory)
        killed_mid_write += any(TEMP_NAME_RE.match(n) for n in names)
        for name in names:
            if TEMP_NAME_RE.match(name):
                continue
            document = json.loads((directory / name).read_bytes())  # whole, or not there
            assert DOCUMENT_NAME.fullmatch(name) and document["pad"] == "x" * (8 << 20)
        # The writer is gone: its temp file is stale, and the next clean-up removes it.
        _store(base).clean_stale_temp_files(time.time())
        assert not [n for n in os.listdir(directory) if TEMP_NAME_RE.match(n)]
    assert killed_mid_write, "no kill landed inside a write"


@given(st.integers(min_value=0, max_value=2**48 - 1), st.binary(min_size=10, max_size=10))
@settings(max_examples=200, deadline=None)
def test_ids_round_trip_their_time_and_sort_by_it(ms: int, rnd: bytes) -> None:
    id_ = new_id(ms, random_bytes=rnd)
    assert re.fullmatch(ID_PATTERN, id_)
    assert id_time_ms(id_) == ms
    if ms < 2**48 - 1:
        assert new_id(ms + 1, random_bytes=b"\0" * 10) > id_  # later time sorts after
    assert new_id(ms, random_bytes=b"\0" * 10) <= id_ <= new_id(ms, random_bytes=b"\xff" * 10)


@given(st.integers(min_value=0, max_value=2**48 - 1), st.binary(min_size=10, max_size=10))
@settings(max_examples=200, deadline=None)
def test_ids_encode_time_and_random_part_exactly(ms: int, rnd: bytes) -> None:
    # All 26 characters, most significant first, 5 bits each: decoding them gives back
    # the 48-bit time and the 80 random bits (new_id's encoding was rewritten, issue 14).
    from localtelemetry._contract import ID_CHARS

    value = 0
    for char in new_id(ms, random_bytes=rnd):
        value = value * 32 + ID_CHARS.index(char)
    assert value == (ms << 80) | int.from_bytes(rnd, "big")
