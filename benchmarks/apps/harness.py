"""Runs one variant of the example app and reports where its time went.

    python benchmarks/apps/harness.py VARIANT ARGS...

VARIANT is ``example`` (examples/notebook.py) or ``plain``/``stdlib``/``otel``/``posthog``
(benchmarks/apps/notebook_plain.py, recorded by that baseline, if any); ``example+blake3``
is ``example`` with the blake3 extension imported before the clock starts. What every
variant does alike happens before the clock starts: importing typer, and one warm-up run
of the plain app (Typer's own lazy imports). Then the app module is imported (with
localtelemetry for ``example``) and run exactly as its ``__main__`` block would. The
last line on stderr is ``BENCH-TIMING {"import_s": ..., "run_s": ...}``.

The whole process is timed by the parent too; these two figures leave out interpreter
start-up and the shared imports, which are the same in every variant and, on a busy
machine, are where most of the noise comes from.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
import time
from pathlib import Path
from types import ModuleType

import typer  # noqa: F401  (shared by every variant: imported before timing starts)

HERE = Path(__file__).resolve().parent
FILES = {"example": HERE.parent.parent / "examples" / "notebook.py"}
BASELINES = ("stdlib", "otel", "posthog")


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _warm_up(args: list[str]) -> None:
    """Run the plain app once, output discarded: Typer imports about a hundred modules
    (pydantic among them) the first time it builds and runs a command. Every variant
    does that identically, so it happens before the clock starts."""
    plain = _load(HERE / "notebook_plain.py", "notebook_warm_up")
    quiet = io.StringIO()
    with (
        contextlib.redirect_stdout(quiet),
        contextlib.redirect_stderr(quiet),
        contextlib.suppress(SystemExit, Exception),  # only the imports matter here
    ):
        plain.app([a for a in args if a != "--telemetry"], standalone_mode=False)


def main() -> None:
    variant = sys.argv[1]
    if variant.endswith("+blake3"):
        # The breakdown variant: the BLAKE3 extension is loaded before the clock starts,
        # so a recorded run's added time shows what everything but that load costs.
        variant = variant.removesuffix("+blake3")
        import blake3  # noqa: F401
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    path = FILES.get(variant, HERE / "notebook_plain.py")
    _warm_up(sys.argv[1:])
    t0 = time.perf_counter()
    module = _load(path, "notebook_under_test")
    t1 = time.perf_counter()
    code: str | int | None = 0
    try:
        if variant in BASELINES:
            module._main_with_baseline(variant)
        else:
            module.app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, str | int) else None
    t2 = time.perf_counter()
    sys.stdout.flush()
    timing = {"import_s": t1 - t0, "run_s": t2 - t1}
    sys.stderr.write("BENCH-TIMING " + json.dumps(timing) + "\n")
    sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
