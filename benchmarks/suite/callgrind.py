"""Instruction counts of whole processes with ``valgrind --tool=callgrind`` (issue 14).

A process run under callgrind executes the same instructions every time when its
inputs are the same (``PYTHONHASHSEED=0`` fixes the one random input of CPython that
changes the work: string hashing), so the count of two runs agrees to about 0.01 %,
where wall and CPU times of a 250 ms process swing by several ms on a shared machine.
The counts leave out the kernel's work (system calls, page faults), so the benchmark
prints the whole-process wall and CPU times beside them.

valgrind comes from the distribution's package: ``ensure_valgrind`` installs it with
``apt-get`` where it is missing (and says so); without it the instruction rows are
skipped with a message, never faked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

_COLLECTED = re.compile(r"^==\d+== Collected : (\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Valgrind:
    path: str
    version: str
    note: str


def _version(path: str) -> str:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown version"


def ensure_valgrind(*, install: bool) -> tuple[Valgrind | None, str]:
    """valgrind, installed from the Debian package with apt-get when missing and
    ``install`` is true. Returns it (or None) and one line saying what happened."""
    path = shutil.which("valgrind")
    if path:
        version = _version(path)
        return Valgrind(path, version, f"{version} ({path})"), f"valgrind: {version} ({path})"
    if not install:
        return None, "valgrind is not installed: instruction counts skipped"
    apt = shutil.which("apt-get")
    if apt is None:
        return None, (
            "valgrind is not installed and apt-get is not available: instruction counts "
            "skipped (install valgrind from your distribution's packages)"
        )
    prefix: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            return (
                None,
                "valgrind is not installed and this is not root: instruction counts skipped",
            )
        prefix = [sudo, "-n"]
    print("valgrind is not installed: installing Debian's package (apt-get install valgrind)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install_cmd = [*prefix, apt, "install", "-y", "--no-install-recommends", "valgrind"]
    done = subprocess.run(install_cmd, env=env, check=False, capture_output=True, text=True)
    if done.returncode != 0:  # the package lists may be missing (fresh containers)
        subprocess.run([*prefix, apt, "update"], env=env, check=False, capture_output=True)
        done = subprocess.run(install_cmd, env=env, check=False, capture_output=True, text=True)
    path = shutil.which("valgrind")
    if done.returncode != 0 or path is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"apt-get install valgrind failed ({tail[0]}): instruction counts skipped"
    version = _version(path)
    return Valgrind(path, version, "installed by this run"), (
        f"valgrind: {version} ({path}), installed by this run with apt-get"
    )


def count(
    valgrind: Valgrind,
    cmd: Sequence[str],
    env: dict[str, str],
    *,
    cwd: Path | None = None,
    keep: Path | None = None,
    timeout: float = 1800,
) -> int:
    """Instructions executed by the process ``cmd`` (not its children), whole: from the
    first instruction of the interpreter to its exit. With ``keep`` the callgrind
    profile is written there (for ``callgrind_annotate``)."""
    with tempfile.TemporaryDirectory(prefix="lt-bench-cg-") as scratch:
        out = str(keep) if keep is not None else os.devnull
        proc = subprocess.Popen(
            [
                valgrind.path,
                "--tool=callgrind",
                "--trace-children=no",
                f"--callgrind-out-file={out}",
                # one log per process: a child forked before its exec has its own
                f"--log-file={scratch}/valgrind.%p.log",
                *cmd,
            ],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        log = Path(scratch) / f"valgrind.{proc.pid}.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    found = _COLLECTED.findall(text)
    if not found:
        raise RuntimeError(
            f"callgrind gave no count for {' '.join(cmd)} (exit {proc.returncode}): "
            f"{text[-1500:]}{err[-1500:].decode('utf-8', 'replace')}"
        )
    return int(found[-1])


def count_many(
    valgrind: Valgrind,
    jobs: Sequence[tuple[str, Sequence[str], dict[str, str]]],
    *,
    workers: int,
    keep_dir: Path | None = None,
) -> dict[str, list[int]]:
    """Counts for many (name, cmd, env) jobs, ``workers`` at a time (counts do not
    depend on the load, so they may run side by side). A name may repeat: its counts
    are listed in job order."""

    def one(i: int) -> int:
        name, cmd, env = jobs[i]
        keep = keep_dir / f"callgrind.{name.replace(':', '.')}.{i}" if keep_dir else None
        return count(valgrind, cmd, env, keep=keep)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(one, range(len(jobs))))
    out: dict[str, list[int]] = {}
    for (name, _, _), value in zip(jobs, results, strict=True):
        out.setdefault(name, []).append(value)
    return out


def spread(values: list[int]) -> float:
    """(max - min) / min of repeated counts, as a fraction."""
    if not values:
        return 0.0
    low, high = min(values), max(values)
    return (high - low) / low if low else 0.0


__all__ = ["Valgrind", "count", "count_many", "ensure_valgrind", "spread"]
