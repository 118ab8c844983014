"""Writing a user-named output file (a bundle, a report) without ever leaving half of it.

The bytes go to a hidden temp file beside the target (``.NAME.partial-PID-RANDOM``) and
become the target only when everything was written: by rename with ``--force``, else
by a hard link that fails if the name appeared meanwhile, so an existing file is never
replaced behind the user's back. A killed writer's temp file is removed by the next
write to the same name, once its process is gone. A target that is a device or a pipe
(``-o /dev/null``, ``-o /dev/stdout``) is written directly: there is no file to replace.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from localtelemetry._contract.exceptions import UsageError

from . import AtomicFile, pid_alive


def check_target(target: Path, *, force: bool, option: str) -> Path:
    """Refuse a target that cannot be written before any work starts; returns its
    directory. ``option`` names the flag that chose it, for the message."""
    if target.is_dir():
        raise UsageError(f"{target} is a directory; give a file name")
    if is_stream(target):
        return target.parent
    if (target.exists() or target.is_symlink()) and not force:
        raise UsageError(f"{target} already exists; choose another {option} or pass --force")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"directory {directory} does not exist")
    return directory


@contextlib.contextmanager
def new_file(
    target: Path, *, force: bool, mode: int, doing: str, buffering: int = -1
) -> Iterator[BinaryIO]:
    """A binary file to write ``target`` through (see the module docstring). ``doing``
    says what was under way ("exporting"), for the message when the name appeared."""
    if is_stream(target):
        with open(target, "wb", buffering=buffering) as stream:
            yield stream
        return
    directory = target.parent if str(target.parent) else Path(".")
    remove_stale_partials(directory, target.name)
    tmp = directory / f".{target.name}.partial-{os.getpid()}-{os.urandom(6).hex()}"
    written = False
    try:
        with AtomicFile(str(target), replace=force, mode=mode, temp=str(tmp)) as atomic:
            yield atomic.stream(buffering)
            written = True
    except FileExistsError:
        if not written:
            raise  # the caller's own, not the target's
        raise UsageError(f"{target} appeared while {doing}; nothing overwritten") from None


def is_stream(target: Path) -> bool:
    """A character device or a pipe (also behind a symlink, as /dev/stdout is)."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def remove_stale_partials(directory: Path, name: str) -> None:
    """Remove the temp files of writers of ``name`` that were killed."""
    prefix = f".{name}.partial-"
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            pid_text = entry.name[len(prefix) :].split("-", 1)[0]
            if pid_text.isdigit() and int(pid_text) != os.getpid() and not pid_alive(int(pid_text)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
