"""Principle 4 again: faults inside the recorder never reach the host."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import subprocess
import time
import types
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import localtelemetry._store as _location
from localtelemetry._contract import new_id
from localtelemetry._store import store as _store

import hostapp
from conftest import HOSTAPP, all_files, clean_env, run_script, store_documents

EXPECTED_STDOUT = "ok src=. include=* jobs=1 verbose=False\n"


def _run(args: list[str] | None = None) -> Any:
    return CliRunner().invoke(hostapp.app, args or ["--telemetry", "ok"])


def _assert_host_unaffected(result: Any) -> None:
    assert result.exit_code == 0, result.output
    assert result.stdout == EXPECTED_STDOUT
    assert len(result.stderr.splitlines()) <= 1


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """No new file can be made in ``directory``: mode 0500, or for root (whom modes do
    not stop) the immutable attribute, where the file system has one."""
    if os.geteuid() != 0:
        directory.chmod(0o500)
        try:
            yield
        finally:
            directory.chmod(0o700)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root, and there is no chattr to make a directory immutable")
    made = subprocess.run(
        [chattr, "+i", str(directory)], capture_output=True, text=True, check=False
    )
    if made.returncode:
        pytest.skip(f"running as root, and chattr +i failed: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(directory)], check=True)


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_read_only_store(base: Path) -> None:
    _run()
    store = base / "hostapp"
    before = sorted(p.name for p in store.iterdir())
    with _read_only(store):
        result = _run()
    _assert_host_unaffected(result)
    assert "could not record" in result.stderr
    assert sorted(p.name for p in store.iterdir()) == before


def test_file_where_the_store_should_be(base: Path) -> None:
    base.mkdir()
    (base / "hostapp").write_text("not a directory")
    result = _run()
    _assert_host_unaffected(result)
    assert "not a directory" in result.stderr
    assert (base / "hostapp").read_text() == "not a directory"


def test_file_where_the_base_should_be(base: Path) -> None:
    base.write_text("a file")
    result = _run()
    _assert_host_unaffected(result)
    assert result.stderr.count("\n") == 1


def test_disk_full(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    fake_os = types.SimpleNamespace(
        **{k: getattr(os, k) for k in dir(os) if not k.startswith("__")}
    )
    fake_os.write = full
    monkeypatch.setattr(_location, "os", fake_os)  # every file of ours is written there
    result = _run()
    _assert_host_unaffected(result)
    assert "No space left on device" in result.stderr
    # no partial files were left behind: not even the key, the first write that failed
    assert [p.name for p in all_files(base / "hostapp")] == []


def test_disk_full_after_the_key(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run()
    before = sorted(p.name for p in all_files(base / "hostapp"))

    def full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    fake_os = types.SimpleNamespace(
        **{k: getattr(os, k) for k in dir(os) if not k.startswith("__")}
    )
    fake_os.write = full
    monkeypatch.setattr(_location, "os", fake_os)
    result = _run()
    _assert_host_unaffected(result)
    assert "No space left on device" in result.stderr
    # the documents of the first run and the key stay; no temp file is left behind
    assert sorted(p.name for p in all_files(base / "hostapp")) == before


def test_corrupt_key_file(base: Path) -> None:
    _run()
    store = base / "hostapp"
    (store / ".hashkey").write_bytes(b"short")
    count = len(all_files(store))
    result = _run()
    _assert_host_unaffected(result)
    assert "key" in result.stderr and "reset-key" in result.stderr
    assert len(all_files(store)) == count


def test_symlinked_key_is_not_followed(base: Path, tmp_path: Path) -> None:
    _run()
    store = base / "hostapp"
    target = tmp_path / "elsewhere"
    target.write_bytes(b"x" * 32)
    (store / ".hashkey").unlink()
    (store / ".hashkey").symlink_to(target)
    result = _run()
    _assert_host_unaffected(result)
    assert "symlink" in result.stderr


def test_corrupt_and_foreign_files_in_store_are_skipped_not_deleted(base: Path) -> None:
    _run()
    store = base / "hostapp"
    corrupt = store / f"cli-command-{new_id(int(time.time() * 1000))}.json"
    corrupt.write_bytes(b"{not json")
    foreign = store / "notes.txt"
    foreign.write_text("mine")
    result = _run()
    _assert_host_unaffected(result)
    assert foreign.read_text() == "mine"
    assert corrupt.read_bytes() == b"{not json"
    listing = CliRunner().invoke(hostapp.app, ["telemetry", "list", "--format", "json"])
    assert listing.exit_code == 0, listing.output
    assert '"skipped_unreadable": 1' in listing.stdout


@pytest.mark.skipif(os.name != "posix", reason="symlinks and modes")
def test_symlinked_store_is_refused(base: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    base.mkdir()
    (base / "hostapp").symlink_to(real)
    result = _run()
    _assert_host_unaffected(result)
    assert "symlink" in result.stderr
    assert list(real.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_world_writable_store_is_refused(base: Path) -> None:
    store = base / "hostapp"
    store.mkdir(parents=True)
    store.chmod(0o777)
    result = _run()
    _assert_host_unaffected(result)
    assert "writable by other users" in result.stderr
    assert list(store.iterdir()) == []
    assert stat.S_IMODE(store.stat().st_mode) == 0o777  # we refuse; we do not "fix" it


def test_foreign_owner_is_refused(base: Path) -> None:
    from localtelemetry import StoreLocation
    from localtelemetry._contract.exceptions import UnsafeStoreError

    base.mkdir()
    (base / "app").mkdir(mode=0o700)
    store = _store.Store(StoreLocation("app", base=base), getuid=lambda: os.getuid() + 1)
    with pytest.raises(UnsafeStoreError, match="another user"):
        store.ensure_directory()


def test_stderr_is_one_line_even_when_everything_fails(base: Path) -> None:
    base.write_text("a file")
    result = _run(["--telemetry", "ok"])
    assert result.stderr.count("\n") == 1


def test_faults_in_a_real_subprocess(tmp_path: Path) -> None:
    home, base = tmp_path / "home", tmp_path / "store"
    home.mkdir()
    base.mkdir()
    (base / "hostapp").write_text("in the way")
    env = clean_env(base, home)
    plain = run_script(HOSTAPP, ["ok"], env)
    recorded = run_script(HOSTAPP, ["ok", "--telemetry"], env)
    assert (recorded.returncode, recorded.stdout) == (plain.returncode, plain.stdout)
    assert recorded.stderr.count("\n") == 1 and "Traceback" not in recorded.stderr


def test_good_store_after_faults_still_records(base: Path) -> None:
    _run()
    assert len(store_documents(base / "hostapp")) == 4


def _fake_os(**overrides: Any) -> types.SimpleNamespace:
    fake = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    for name, value in overrides.items():
        setattr(fake, name, value)
    return fake


def test_read_only_file_system(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated, so it also runs as root (which ignores directory modes)."""
    _run()
    before = sorted(p.name for p in (base / "hostapp").iterdir())

    def read_only_open(path: Any, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return os.open(path, flags, mode)

    for module in (_store, _location):  # the directory and journal, the atomic writes
        monkeypatch.setattr(module, "os", _fake_os(open=read_only_open))
    result = _run()
    _assert_host_unaffected(result)
    assert "Read-only file system" in result.stderr
    assert sorted(p.name for p in (base / "hostapp").iterdir()) == before


def _interrupting_replace(prefixes: tuple[str, ...]) -> Any:
    def replace(src: Any, dst: Any) -> None:
        if Path(dst).name.startswith(prefixes):
            raise KeyboardInterrupt
        os.replace(src, dst)

    return replace


def test_ctrl_c_while_the_run_is_being_recorded_is_swallowed(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C that lands in our end-of-run writes must not turn a success into 130."""
    monkeypatch.setattr(
        _location, "os", _fake_os(replace=_interrupting_replace(("cli-command-", "run-summary-")))
    )
    result = _run()
    _assert_host_unaffected(result)
    assert "interrupted" in result.stderr
    names = sorted(p.name.split("-0")[0] for p in all_files(base / "hostapp"))
    assert names == [".hashkey", "build", "snapshot"]  # and no temp files


def test_ctrl_c_during_the_commands_own_write_is_the_users(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside the host's command, Ctrl-C stays a Ctrl-C: same as pressing it a moment
    earlier or later, and the run is recorded as interrupted."""
    monkeypatch.setattr(_location, "os", _fake_os(replace=_interrupting_replace(("build-",))))
    result = _run()
    assert result.exit_code == 130
    (command,) = [d for d in store_documents(base / "hostapp") if d["kind"] == "cli-command"]
    assert command["payload"]["outcome"] == "interrupted"  # type: ignore[index]
    assert not [p for p in (base / "hostapp").iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=timezone.utc),
        datetime(1969, 7, 20, tzinfo=timezone.utc),
        datetime(2250, 1, 1, tzinfo=timezone.utc),
    ],
)
def test_clock_skew_still_gives_valid_documents(base: Path, moment: datetime) -> None:
    import typer

    from localtelemetry import Telemetry

    app = typer.Typer()
    telemetry = Telemetry("skewed", version="1", now=lambda: moment)
    telemetry.install(app)

    @app.command()
    def go() -> None:
        print("went")

    @app.command()
    def other() -> None:
        pass

    result = CliRunner().invoke(app, ["go", "--telemetry"])
    _assert_clean = result.exit_code == 0 and result.stdout == "went\n"
    assert _assert_clean, result.output
    documents = store_documents(base / "skewed")
    assert [d["kind"] for d in documents] == ["cli-command", "run-summary"]
