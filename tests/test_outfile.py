"""``_outfile``: how a user-named output file (a bundle, a report, a run result) is
written. The bytes go to a hidden temp file beside the target and become the target
only when whole: by a hard link that fails if the name appeared meanwhile, or by rename
with ``--force``. An existing file is never replaced without ``--force``; a killed
writer leaves no target, and its temp file is removed by the next write to that name;
a device or a pipe is written directly; the file gets the mode asked for (0600 for
bundles, as docs/bundles.md says), even under a permissive umask.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localtelemetry._contract.exceptions import UsageError
from localtelemetry._store.outfile import check_target, new_file

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX modes, FIFOs and signals")


def _partial_re(target: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(target.name)}\.partial-(\d+)-[0-9a-f]+")


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# -- temp file, then link ----------------------------------------------------------------


def test_the_target_appears_only_when_whole(tmp_path: Path) -> None:
    target = tmp_path / "bundle.zip"
    with new_file(target, force=False, mode=0o600, doing="exporting") as fh:
        fh.write(b"first half ")
        fh.flush()
        # Mid-write: no target yet, one hidden temp file beside it holding what was written.
        assert not target.exists()
        (temp,) = tmp_path.iterdir()
        match = _partial_re(target).fullmatch(temp.name)
        assert match and int(match.group(1)) == os.getpid()
        assert temp.read_bytes() == b"first half "
        fh.write(b"second half")
    assert target.read_bytes() == b"first half second half"
    assert _names(tmp_path) == ["bundle.zip"]


def test_an_error_while_writing_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "report.html"

    class Stop(Exception):
        pass

    def write_then_fail() -> None:
        with new_file(target, force=False, mode=0o644, doing="writing") as fh:
            fh.write(b"<html>")
            raise Stop

    with pytest.raises(Stop):
        write_then_fail()
    assert _names(tmp_path) == []


# -- never replaces without --force ------------------------------------------------------


def test_an_existing_target_is_refused_before_any_work(tmp_path: Path) -> None:
    target = tmp_path / "b.zip"
    target.write_bytes(b"theirs")
    with pytest.raises(UsageError) as refused:
        check_target(target, force=False, option="-o")
    assert str(refused.value) == f"{target} already exists; choose another -o or pass --force"
    assert check_target(target, force=True, option="-o") == tmp_path
    assert target.read_bytes() == b"theirs"


def test_a_name_that_appears_while_writing_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "b.zip"
    check_target(target, force=False, option="-o")

    def write_while_another_program_creates_it() -> None:
        with new_file(target, force=False, mode=0o600, doing="exporting") as fh:
            fh.write(b"ours")
            target.write_bytes(b"theirs")

    with pytest.raises(UsageError, match="appeared while exporting; nothing overwritten"):
        write_while_another_program_creates_it()
    assert target.read_bytes() == b"theirs"
    assert _names(tmp_path) == ["b.zip"]


def test_force_replaces_the_file_and_only_the_file(tmp_path: Path) -> None:
    target = tmp_path / "b.zip"
    target.write_bytes(b"old")
    with new_file(target, force=True, mode=0o600, doing="exporting") as fh:
        fh.write(b"new")
    assert target.read_bytes() == b"new"
    assert _names(tmp_path) == ["b.zip"]


@POSIX
def test_a_symlink_at_the_target_is_refused_or_replaced_never_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "precious.txt"
    elsewhere.write_bytes(b"precious")
    target = tmp_path / "b.zip"
    target.symlink_to(elsewhere)
    with pytest.raises(UsageError, match="already exists"):
        check_target(target, force=False, option="-o")
    dangling = tmp_path / "dangling.zip"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(UsageError, match="already exists"):
        check_target(dangling, force=False, option="-o")
    with new_file(target, force=True, mode=0o600, doing="exporting") as fh:
        fh.write(b"bundle")
    assert not target.is_symlink() and target.read_bytes() == b"bundle"
    assert elsewhere.read_bytes() == b"precious"
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("where", ["directory", "missing parent"])
def test_targets_that_cannot_be_files_are_refused(tmp_path: Path, where: str) -> None:
    target = tmp_path if where == "directory" else tmp_path / "no" / "such" / "b.zip"
    message = "is a directory; give a file name" if where == "directory" else "does not exist"
    with pytest.raises(UsageError, match=message):
        check_target(target, force=True, option="-o")
    assert _names(tmp_path) == []


# -- a killed writer -------------------------------------------------------------------------

_WRITER = """
import sys
from pathlib import Path
from localtelemetry._store.outfile import new_file
import time
with new_file(Path(sys.argv[1]), force=False, mode=0o600, doing="exporting") as fh:
    for _ in range(1024):  # 64 MB, then wait to be killed
        fh.write(b"x" * 65536)
        fh.flush()
    time.sleep(600)
"""


@POSIX
def test_a_killed_writer_leaves_no_target_and_the_next_write_removes_its_temp_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "b.zip"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and writer.poll() is None:
            temps = [p for p in tmp_path.iterdir() if _partial_re(target).fullmatch(p.name)]
            if temps and temps[0].stat().st_size > 0:
                break
            time.sleep(0.01)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    (left,) = _names(tmp_path)  # its temp file, and no target
    assert _partial_re(target).fullmatch(left).group(1) == str(writer.pid)  # type: ignore[union-attr]
    # A temp file of a writer still running (this process's parent) is not touched.
    live = tmp_path / f".b.zip.partial-{os.getppid()}-{'ab' * 6}"
    live.write_bytes(b"busy")
    with new_file(target, force=False, mode=0o600, doing="exporting") as fh:
        fh.write(b"whole")
    assert target.read_bytes() == b"whole"
    assert _names(tmp_path) == sorted(["b.zip", live.name])


# -- devices and pipes --------------------------------------------------------------------


@POSIX
def test_dev_null_is_written_directly(tmp_path: Path) -> None:
    devnull = Path(os.devnull)
    assert check_target(devnull, force=False, option="-o") == devnull.parent
    before = {p.name for p in devnull.parent.iterdir()}
    with new_file(devnull, force=False, mode=0o600, doing="exporting") as fh:
        fh.write(b"discarded")
    assert stat.S_ISCHR(os.stat(devnull).st_mode)
    assert {p.name for p in devnull.parent.iterdir()} == before  # no temp file in /dev


@POSIX
def test_a_fifo_is_written_directly_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"  # as /dev/stdout is a symlink to the terminal or pipe
    link.symlink_to(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        check_target(link, force=False, option="-o")
        with new_file(link, force=False, mode=0o600, doing="writing") as fh:
            fh.write(b"through the pipe")
    finally:
        if reader.is_alive() and not received:  # nothing came through: let it go
            with contextlib.suppress(OSError):  # ENXIO: it has gone already
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=60)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    assert _names(tmp_path) == ["pipe", "stdout"]


# -- permissions -----------------------------------------------------------------------------


@POSIX
@pytest.mark.parametrize("mode", [0o600, 0o644])
@pytest.mark.parametrize("force", [False, True])
def test_the_file_gets_no_wider_mode_than_asked_even_with_umask_0(
    tmp_path: Path, umask: None, mode: int, force: bool
) -> None:
    # umask 0: a bundle (0600) must not come out readable by others however the user's
    # umask is set, and its temp file is private from the first byte.
    target = tmp_path / "out"
    with new_file(target, force=force, mode=mode, doing="writing") as fh:
        (temp,) = tmp_path.iterdir()
        assert stat.S_IMODE(temp.stat().st_mode) == mode
        fh.write(b"x")
    assert stat.S_IMODE(target.stat().st_mode) == mode
