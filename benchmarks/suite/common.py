"""Shared pieces of the benchmarks: environments, timed child processes, statistics, tables."""

from __future__ import annotations

import os
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"
EXAMPLE = ROOT / "examples" / "notebook.py"
PLAIN = BENCH / "apps" / "notebook_plain.py"
PYTHON = sys.executable

#: Variables that would change what a child does (recording switches, CI detection).
_DROPPED = (
    "PYTHONDONTWRITEBYTECODE",
    "LOCALTELEMETRY_DIR",
    "LOCALTELEMETRY_APP",
    "LOCALTELEMETRY_DISABLED",
    "DO_NOT_TRACK",
    "PYTHONPROFILEIMPORTTIME",
)


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of every measured child: a private HOME and state directory, the
    repository on PYTHONPATH, and bytecode caching on (no PYTHONDONTWRITEBYTECODE)."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update(
        {
            "HOME": str(home),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "PYTHONPATH": str(ROOT),
            "PYTHONHASHSEED": "0",
        }
    )
    env.update(extra)
    return env


def compile_bytecode() -> str:
    """Make sure .pyc files exist for everything the children import from the tree, so
    no measured run pays for compiling (the session may set PYTHONDONTWRITEBYTECODE)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    targets = [str(ROOT / d) for d in ("localtelemetry", "examples", "benchmarks")]
    subprocess.run(
        [PYTHON, "-m", "compileall", "-q", *targets],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return (
        "bytecode: `python -m compileall -q localtelemetry examples benchmarks` ran first; "
        "children run without PYTHONDONTWRITEBYTECODE (so site-packages caches are used "
        "and written), and warm-up runs are discarded"
    )


class Sample:
    """One timed child process."""

    __slots__ = ("maxrss_kib", "returncode", "stderr", "stdout", "sys_s", "user_s", "wall_s")

    def __init__(
        self,
        wall_s: float,
        user_s: float,
        sys_s: float,
        maxrss_kib: int,
        returncode: int,
        stdout: str,
        stderr: str,
    ) -> None:
        self.wall_s = wall_s
        self.user_s = user_s
        self.sys_s = sys_s
        self.maxrss_kib = maxrss_kib
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


SPAWN = BENCH / "suite" / "spawn.py"


def run_timed(
    cmd: Sequence[str], env: dict[str, str], *, cwd: Path | None = None, timeout: float = 600
) -> Sample:
    """Run a child from a small parent (``spawn.py``); wall time from just before the
    spawn to the reaping, CPU and peak RSS from the kernel's accounting of that child
    alone (wait4). The parent must be small: a child's ``ru_maxrss`` is at least the
    size of the process that started it (issue 14)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory(prefix="lt-bench-spawn-") as scratch,
    ):
        result_file = os.path.join(scratch, "result")
        proc = subprocess.Popen(
            [PYTHON, "-I", "-S", str(SPAWN), result_file, *cmd],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=err,
            start_new_session=True,  # a timeout ends the child and the spawner together
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise RuntimeError(f"timed out after {timeout} s: {shlex.join(cmd)}") from None
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        try:
            with open(result_file, encoding="ascii") as fh:
                wall, user, sys_, maxrss, code = fh.read().split()
        except (OSError, ValueError):
            raise RuntimeError(
                f"could not start {shlex.join(cmd)} (spawner exit {proc.returncode}): "
                f"{stderr[-2000:]}"
            ) from None
    return Sample(float(wall), float(user), float(sys_), int(maxrss), int(code), stdout, stderr)


def spawn_floor_kib(env: dict[str, str]) -> int:
    """The peak RSS reported for ``true`` through the spawner: the floor below which no
    child's memory can be read this way (the spawner's own size)."""
    true = shutil.which("true") or "/bin/true"
    return run_timed([true], env).maxrss_kib


# -- statistics ------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v
    q = statistics.quantiles(values, n=4, method="inclusive")
    return float(q[0]), float(q[2])


def bootstrap_ci(
    columns: Sequence[Sequence[float]],
    stat: Callable[..., float],
    *,
    resamples: int = 2000,
    seed: int = 12345,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``stat(*columns)``, resampling rounds (rows) jointly, so
    paired measurements stay paired."""
    n = len(columns[0])
    if n < 2:
        v = stat(*columns)
        return v, v
    rng = random.Random(seed)
    results = []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        results.append(stat(*[[col[i] for i in idx] for col in columns]))
    results.sort()
    lo = results[int((1 - level) / 2 * resamples)]
    hi = results[min(resamples - 1, int((1 + level) / 2 * resamples))]
    return lo, hi


def paired(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Summary of paired samples: medians, the paired differences a-b (median, IQR, 95%
    bootstrap CI of the median) and the paired ratios a/b (median, IQR)."""
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    ratios = [x / y for x, y in zip(a, b, strict=True) if y > 0]
    lo, hi = bootstrap_ci([diffs], median)
    q1, q3 = quartiles(diffs)
    r1, r3 = quartiles(ratios)
    return {
        "n": len(diffs),
        "median_a": median(a),
        "median_b": median(b),
        "diff_median": median(diffs),
        "diff_iqr": [q1, q3],
        "diff_ci95": [lo, hi],
        "ratio_median": median(ratios),
        "ratio_iqr": [r1, r3],
    }


def summary(values: Sequence[float]) -> dict[str, Any]:
    q1, q3 = quartiles(values)
    return {
        "n": len(values),
        "median": median(values),
        "iqr": [q1, q3],
        "mean": statistics.fmean(values) if values else float("nan"),
        "min": min(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
    }


# -- output ----------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    body = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join("-" * w for w in widths)
    out = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(out)


def machine() -> dict[str, Any]:
    import platform

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        model = platform.processor()
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_at_start": load,
    }
