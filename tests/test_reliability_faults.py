"""Issue 5, fault injection at every I/O call of the recording path.

Every ``os`` function that does I/O (FUNCTIONS) is made to raise each errno of ERRNOS,
on every call and, one at a time, on each single call a recorded run makes, in two
stores: a ``fresh`` one (the run creates the directory and the key, and prunes) and an
``existing`` one (key read, retention pruning, a stale temp file to remove). The fault
goes in through the ``os`` reference of the package's modules (no global is touched).

For each case the host must be unaffected (same exit code and stdout, at most one line
on stderr, no traceback); the store must hold only valid documents and no temp file of
the failed run (unless the failing call is the ``unlink`` that would remove it); and the
next run, without the fault, must record normally. A trace of an unfaulted run checks
that FUNCTIONS covers every I/O call the recording path makes.

docs/reliability.md shows the matrix and its result.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from localtelemetry import Limits, Telemetry
from localtelemetry._store import DOCUMENT_NAME_RE, TEMP_NAME_RE

from conftest import ROOT, store_documents

FUNCTIONS = (
    "open",
    "read",
    "pread",
    "write",
    "close",
    "replace",
    "rename",
    "link",
    "unlink",
    "mkdir",
    "makedirs",
    "chmod",
    "fchmod",
    "stat",
    "lstat",
    "fstat",
    "scandir",
    "getcwd",
)
ERRNOS = ("ENOSPC", "EACCES", "EROFS", "EIO", "ENAMETOOLONG")
#: os functions the recording path may call that do no file I/O.
NOT_IO = {
    *("getpid", "urandom", "kill", "times", "fspath", "getuid", "fsdecode", "strerror"),
    "uname",
}
SCENARIOS = ("fresh", "existing", "steady")
LIMITS = {"fresh": 6, "existing": 6, "steady": 1000}
STDOUT = "worked /data/in.csv\n"


class FaultyOS:
    """Stands in for ``os`` inside the package: counts calls (and notes the call site of
    each), and raises ``err`` from ``fail`` on its ``nth`` call (every call when ``nth``
    is None)."""

    def __init__(self, fail: str | None = None, err: int = 0, nth: int | None = None) -> None:
        self.fail, self.err, self.nth = fail, err, nth
        self.calls: Counter[str] = Counter()
        self.sites: dict[str, list[str]] = {}
        self.raised = 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(os, name)
        if not isinstance(real, types.BuiltinFunctionType | types.FunctionType):
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            caller = sys._getframe(1)
            site = f"{Path(caller.f_code.co_filename).name}:{caller.f_lineno}"
            self.sites.setdefault(name, []).append(site)
            if name == self.fail and self.nth in (None, self.calls[name]):
                self.raised += 1
                where = os.fspath(args[0]) if args and isinstance(args[0], str | Path) else None
                raise OSError(self.err, os.strerror(self.err), where)
            return real(*args, **kwargs)

        return call


def _modules_using_os() -> list[types.ModuleType]:
    """Every loaded module of the package that holds ``os`` (the recording path's are
    loaded: the ``templates`` fixture has recorded a run before any fault)."""
    import localtelemetry._record.recorder
    import localtelemetry._store.store  # noqa: F401

    loaded = [m for name, m in sys.modules.items() if name.partition(".")[0] == "localtelemetry"]
    return [m for m in loaded if getattr(m, "os", None) is os]


def _host(base: Path, limit: int) -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    telemetry = Telemetry("faulty", version="1", directory=base, limits=Limits(max_documents=limit))
    telemetry.install(app)

    @app.command()
    def work(item: str) -> None:
        with telemetry.build("work") as b:
            b.path("input", item)
            b.count("items", 3)
        telemetry.snapshot("state", counts={"items": 3})
        print("worked", item)

    @app.command()
    def other() -> None:
        pass

    return app


def _run(base: Path, scenario: str) -> Any:
    host = _host(base, LIMITS[scenario])
    return CliRunner().invoke(host, ["--telemetry", "work", "/data/in.csv"])


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``fresh``: nothing exists yet. ``existing``: a store at its limit (6 documents,
    so the next run prunes) and the temp file of a process that is gone. ``steady``: a
    store well within its limits, so the next run only checks its retention records."""
    root = tmp_path_factory.mktemp("templates")
    existing = root / "existing"
    for _ in range(2):
        assert _run(existing, "existing").exit_code == 0
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = existing / "faulty" / f".tmp-{int(dead.stdout)}-{'c' * 16}.partial"
    stale.write_bytes(b'{"half": ')
    return {"fresh": root / "fresh", "existing": existing, "steady": root / "steady"}


def _prepare(template: Path, target: Path) -> Path:
    if template.name == "steady":
        # Made in place: the retention records name the journal's inode, which a copy
        # would change (and the run would then take the full pass instead).
        assert _run(target, "steady").exit_code == 0
    elif template.exists():
        shutil.copytree(template, target)
    return target


def _with_os(fake: FaultyOS, body: Callable[[], Any]) -> Any:
    modules = _modules_using_os()
    try:
        for module in modules:
            module.os = fake  # type: ignore[attr-defined]
        return body()
    finally:
        for module in modules:
            module.os = os  # type: ignore[attr-defined]


def _temp_names(base: Path) -> set[str]:
    store = base / "faulty"
    return (
        {p.name for p in store.iterdir() if TEMP_NAME_RE.match(p.name)} if store.exists() else set()
    )


def _trace(template: Path, work: Path, scenario: str) -> FaultyOS:
    base = _prepare(template, work)
    fake = FaultyOS()
    result = _with_os(fake, lambda: _run(base, scenario))
    assert result.exit_code == 0 and result.stderr == "", result.output
    return fake


def _first_call_of_each_site(sites: list[str]) -> list[int]:
    """1-based indexes of the calls that are the first from their line of code."""
    seen: set[str] = set()
    firsts = []
    for index, site in enumerate(sites, 1):
        if site not in seen:
            seen.add(site)
            firsts.append(index)
    return firsts


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_matrix_covers_every_io_call_of_the_recording_path(
    scenario: str, templates: dict[str, Path], tmp_path: Path
) -> None:
    calls = _trace(templates[scenario], tmp_path / "trace", scenario).calls
    unknown = set(calls) - set(FUNCTIONS) - NOT_IO
    assert not unknown, f"the recording path calls {unknown}: add them to FUNCTIONS"
    assert not calls["chmod"] and not calls["fchmod"]  # files are created with their mode
    if scenario == "fresh":
        assert calls["mkdir"] == 1 and calls["link"] == 1  # the store and the key
    elif scenario == "existing":
        assert calls["unlink"] >= 1  # pruning, or the stale temp file


@pytest.mark.slow  # 240 cases, about 600 faulted runs: half a minute in all
@pytest.mark.parametrize("error", ERRNOS)
@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fault_at_every_call(
    scenario: str, function: str, error: str, templates: dict[str, Path], tmp_path: Path
) -> None:
    template = templates[scenario]
    trace = _trace(template, tmp_path / "trace", scenario)
    calls = trace.calls[function]
    before = _temp_names(template)
    # None: every call fails (a full disk); k: only the k-th call fails (a glitch). For
    # ENOSPC every single call is tried; for the other errors the first call from each
    # line of code that makes one (later calls from that line meet the same handling).
    sites = trace.sites.get(function, [])
    singles = range(1, calls + 1) if error == "ENOSPC" else _first_call_of_each_site(sites)
    for nth in (None, *singles):
        base = _prepare(template, tmp_path / f"run-{nth}")
        fake = FaultyOS(function, getattr(errno, error), nth)
        result = _with_os(fake, lambda base=base: _run(base, scenario))  # type: ignore[misc]
        case = f"{scenario}: {function} call {nth or 'every'} raises {error}"
        # The k-th call is reached (the calls before it went as traced); with every call
        # failing, a run stops writing after a failure (some are retried or tolerated).
        assert fake.raised == 1 if nth else (fake.raised >= 1) == (calls > 0), case
        assert result.exit_code == 0, (case, result.output)
        assert result.stdout == STDOUT, case
        assert len(result.stderr.splitlines()) <= (1 if calls else 0), (case, result.stderr)
        assert "Traceback" not in result.output, case
        store = base / "faulty"
        if store.exists():
            store_documents(store)  # whatever is there parses and validates
        left = _temp_names(base) - before
        if function != "unlink":
            assert not left, (case, left)
        # The fault is gone: the next run records as if nothing had happened.
        again = _run(base, scenario)
        assert (again.exit_code, again.stdout, again.stderr) == (0, STDOUT, ""), (case, again)
        names = [p.name for p in store.iterdir()]
        assert sum(1 for n in names if DOCUMENT_NAME_RE.match(n)) >= 4, case


def test_docs_show_the_whole_matrix() -> None:
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    for function in FUNCTIONS:
        assert f"| `{function}` |" in text, function
    for error in ERRNOS:
        assert error in text, error
