"""``_location.AtomicFile``: the one write-then-rename every file of ours goes through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import localtelemetry._store as _location
from localtelemetry._contract.exceptions import UsageError
from localtelemetry._store import TEMP_NAME_RE, AtomicFile, temp_name
from localtelemetry._store.outfile import new_file


def test_temp_names_are_what_the_retention_pass_recognizes() -> None:
    match = TEMP_NAME_RE.match(temp_name())
    assert match is not None and int(match.group(1)) == os.getpid()


def test_replace_writes_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    target.write_bytes(b"old")
    with AtomicFile(str(target), replace=True, mode=0o640) as out:
        out.write(b"new" * 10_000)
    assert target.read_bytes() == b"new" * 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["doc.json"]


def test_no_replace_refuses_an_existing_name(tmp_path: Path) -> None:
    target = tmp_path / "key"
    target.write_bytes(b"theirs")
    with pytest.raises(FileExistsError), AtomicFile(str(target), replace=False) as out:
        out.write(b"mine")
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["key"]


def test_no_replace_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(_location.os, "link", no_links)
    target = tmp_path / "key"
    with AtomicFile(str(target), replace=False) as out:
        out.write(b"first")
    with pytest.raises(FileExistsError), AtomicFile(str(target), replace=False) as out:
        out.write(b"second")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError), AtomicFile(str(tmp_path / "dangling"), replace=False):
        pass
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "key"]


def test_a_failed_block_leaves_nothing(tmp_path: Path) -> None:
    def write_half() -> None:
        with AtomicFile(str(tmp_path / "doc.json"), replace=True) as out:
            out.write(b"half")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_half()
    assert list(tmp_path.iterdir()) == []


def test_mode_of_the_new_file(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        with AtomicFile(str(tmp_path / "a"), replace=True, mode=0o640) as out:
            out.stream().write(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o640


def test_output_file_passes_the_writers_own_file_exists_error(tmp_path: Path) -> None:
    """Only the target appearing meanwhile is "appeared while ..."; an error of the
    same type raised by the writer is its own."""
    target = tmp_path / "bundle.zip"
    with pytest.raises(FileExistsError), new_file(target, force=False, mode=0o600, doing="x"):
        raise FileExistsError("the writer's")

    def race() -> None:
        with new_file(target, force=False, mode=0o600, doing="x") as out:
            out.write(b"zip")
            target.write_bytes(b"someone else's")

    with pytest.raises(UsageError, match="appeared while x"):
        race()
    assert target.read_bytes() == b"someone else's"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.zip"]
