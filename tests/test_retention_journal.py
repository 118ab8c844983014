"""Issue 4: retention costs a recorded run the same whatever the store's size.

A run lists the store only when the cheap check (``.retention`` + ``.retention-log``)
cannot show that every limit still holds; these tests pin down when it must list it,
and that the limits and DESIGN.md's retention promise hold either way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from localtelemetry import Limits, Telemetry
from localtelemetry._store import JOURNAL_NAME, STATE_NAME, StoreLocation
from localtelemetry._store import store as _store
from localtelemetry._store.store import Store

from conftest import ROOT, clean_env

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the journal is POSIX-only")

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=5)
        return self.now


def _app(base: Path, clock: Clock | None = None, **limits: Any) -> typer.Typer:
    app = typer.Typer()
    telemetry = Telemetry(
        "app", version="1", directory=base, limits=Limits(**limits), now=clock or Clock()
    )
    telemetry.install(app)

    @app.command()
    def go() -> None:
        with telemetry.build("b"):
            pass

    @app.command()
    def other() -> None:
        pass

    return app


def _run(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["go", "--telemetry"])
    assert result.exit_code == 0 and result.stderr == "", result.output


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many full passes over the store retention made."""
    calls: list[int] = []
    real = Store._full_retention

    def counted(self: Store, *args: Any) -> int:
        calls.append(1)
        return real(self, *args)

    monkeypatch.setattr(Store, "_full_retention", counted)
    return calls


def _documents(base: Path) -> list[str]:
    return sorted(p.name for p in (base / "app").glob("*.json"))


def test_only_the_first_run_lists_the_store(tmp_path: Path, scans: list[int]) -> None:
    app = _app(tmp_path)
    for _ in range(5):
        _run(app)
    assert len(scans) == 1
    store = tmp_path / "app"
    assert (store / STATE_NAME).is_file() and (store / JOURNAL_NAME).is_file()
    assert oct((store / STATE_NAME).stat().st_mode & 0o777) == "0o600"
    assert len(_documents(tmp_path)) == 15
    # The bookkeeping files are ours: neither documents nor foreign files.
    assert Store(StoreLocation("app", base=tmp_path)).foreign_files() == []


def test_the_count_limit_holds_after_every_run(tmp_path: Path, scans: list[int]) -> None:
    app = _app(tmp_path, max_documents=7)
    for _ in range(10):
        _run(app)
        assert len(_documents(tmp_path)) <= 7
    assert 1 < len(scans) < 10


def test_a_store_at_its_limit_is_not_listed_on_every_run(tmp_path: Path, scans: list[int]) -> None:
    app = _app(tmp_path, max_documents=96)  # prunes 3 below the limit when it lists
    for _ in range(60):
        _run(app)
        assert len(_documents(tmp_path)) <= 96
    assert len(_documents(tmp_path)) >= 90
    # 180 documents written, 84 over the limit: about one pass per two runs at the limit
    assert len(scans) <= 25


def test_the_bytes_limit_holds(tmp_path: Path) -> None:
    app = _app(tmp_path, max_bytes=12_000)
    for _ in range(12):
        _run(app)
        total = sum(p.stat().st_size for p in (tmp_path / "app").glob("*.json"))
        assert total <= 12_000


def test_age_is_enforced_when_the_oldest_document_expires(tmp_path: Path, scans: list[int]) -> None:
    clock = Clock()
    app = _app(tmp_path, clock, max_age_days=0.5)
    _run(app)
    first = _documents(tmp_path)
    clock.now += timedelta(hours=6)
    _run(app)
    assert len(scans) == 1 and set(first) <= set(_documents(tmp_path))
    clock.now += timedelta(hours=6, minutes=1)  # the first run's documents expire
    _run(app)
    assert len(scans) == 2
    assert not set(first) & set(_documents(tmp_path))
    assert len(_documents(tmp_path)) == 6


def test_changed_limits_list_the_store(tmp_path: Path, scans: list[int]) -> None:
    clock = Clock()
    for _ in range(3):
        _run(_app(tmp_path, clock, max_documents=100))
    _run(_app(tmp_path, clock, max_documents=4))
    assert len(_documents(tmp_path)) == 4
    assert len(scans) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / STATE_NAME).unlink(),
        lambda d: (d / JOURNAL_NAME).unlink(),
        lambda d: (d / STATE_NAME).write_bytes(b"garbage"),
        lambda d: (d / STATE_NAME).write_bytes(b"localtelemetry-retention 1 x y\n"),
        lambda d: (d / JOURNAL_NAME).write_bytes(b"\0" * 3),  # shorter than its base
    ],
)
def test_missing_or_damaged_bookkeeping_means_a_full_pass(
    tmp_path: Path, scans: list[int], damage: Any
) -> None:
    app = _app(tmp_path)
    _run(app)
    damage(tmp_path / "app")
    _run(app)
    assert len(scans) == 2
    _run(app)
    assert len(scans) == 2  # and the bookkeeping is whole again


def test_documents_deleted_by_hand_are_noticed(tmp_path: Path, scans: list[int]) -> None:
    app = _app(tmp_path, max_documents=10)
    _run(app)
    _run(app)
    for name in _documents(tmp_path)[:3]:
        (tmp_path / "app" / name).unlink()
    _run(app)  # the directory changed after the last journal record
    assert len(scans) == 2


def test_a_killed_writer_is_noticed_without_the_directory_time(
    tmp_path: Path, scans: list[int]
) -> None:
    """A writer killed between its 'about to write' record and its rename leaves a temp
    file; the unmatched record alone sends the next run over the store, which removes
    the temp file of the dead process."""
    app = _app(tmp_path)
    _run(app)
    store = tmp_path / "app"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = store / f".tmp-{int(dead.stdout)}-{'c' * 16}.partial"
    stale.write_bytes(b'{"half')
    with open(store / JOURNAL_NAME, "ab") as journal:
        journal.write((0xFFFFFFFF).to_bytes(4, sys.byteorder))
    # Hide the change from the directory-time check: only the record tells.
    journal_time = (store / JOURNAL_NAME).stat().st_mtime_ns
    os.utime(store, ns=(journal_time, journal_time - 1_000_000_000))
    _run(app)
    assert len(scans) == 2
    assert not stale.exists()


def test_without_the_journal_every_run_lists_the_store(
    tmp_path: Path, scans: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_store, "_JOURNAL_SUPPORTED", False)
    app = _app(tmp_path, max_documents=5)
    for _ in range(4):
        _run(app)
    assert len(scans) == 4
    assert len(_documents(tmp_path)) == 5
    assert not (tmp_path / "app" / JOURNAL_NAME).exists()


def test_prune_stays_exact(tmp_path: Path) -> None:
    """Store.prune (used directly, e.g. by `localtelemetry run`) prunes to the limits
    exactly; only the recording runs' full pass prunes a little below them."""
    app = _app(tmp_path, max_documents=1000)
    for _ in range(20):
        _run(app)
    store = Store(StoreLocation("app", base=tmp_path), limits=Limits(max_documents=33))
    assert store.prune(int(NOW.timestamp() * 1000) + 60_000) == 60 - 33
    assert len(store.entries()) == 33


_CONCURRENT = textwrap.dedent(
    """
    import sys
    import typer
    from localtelemetry import Limits, Telemetry

    app = typer.Typer()
    telemetry = Telemetry("busy", version="1", limits=Limits(max_documents=40))
    telemetry.install(app)

    @app.command()
    def go() -> None:
        with telemetry.build("b"):
            pass

    @app.command()
    def other() -> None:
        pass

    for _ in range(int(sys.argv[1])):
        try:
            app(["--telemetry", "go"], standalone_mode=False)
        except SystemExit:
            pass
    """
)


@pytest.mark.slow
def test_concurrent_writers_keep_the_limit(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "lt"
    home.mkdir()
    env = clean_env(base, home)
    env["PYTHONPATH"] = str(ROOT)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT, "30"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and err == "", err
    done = subprocess.run(
        [sys.executable, "-c", _CONCURRENT, "1"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stderr == ""
    documents = list((base / "busy").glob("*.json"))
    assert 30 <= len(documents) <= 40
    assert not list((base / "busy").glob(".tmp-*"))


def test_a_full_pass_at_least_once_a_day(tmp_path: Path, scans: list[int]) -> None:
    clock = Clock()
    app = _app(tmp_path, clock)
    _run(app)
    clock.now += timedelta(hours=23)
    _run(app)
    assert len(scans) == 1
    clock.now += timedelta(hours=2)
    _run(app)
    assert len(scans) == 2
