"""Patches that stand in for proposed fixes, so the benchmark can measure what each saves.

Each is applied in a fresh process before the app runs (``preload.py SPEC APP ...``);
none is product code. If the product changed so that a patch no longer applies, it
raises, and the attribution row says so instead of printing a figure.

* ``typer-flag``: not a fix: builds the ``--telemetry`` option as ``install()`` does
  (``_integration._typer_flag_param``), to count what building it costs.
* ``gc-off``: no cyclic garbage collection in the whole process (to count what the
  collections a recorded run triggers cost: compared with and without it).
* ``gc-pause``: the collector paused while localtelemetry starts and finishes a run
  (``Telemetry.begin_run``/``end_run``), restored after.
* ``scrub-warm``: the known-value redactor and the scrubber imported and the scrubber
  used once on what the redactor leaves of the failing run's message (its path is a
  value of the command line: a path token, and an e-mail address), before the app runs.
* ``empty-package`` / ``empty-modules``: not a fix: a package of empty modules (made by
  the benchmark, named by ``BENCH_EMPTY_MODULES``) imported without / with its
  modules, to count what the import system costs per module.
* ``gc-shift-N``: not a fix: N small objects kept alive before the app starts, which
  moves where the collector's allocation counter stands when localtelemetry runs
  (whether a run's allocations trigger a collection depends on it).
* ``gc-count``: not a fix: counts the collections of each generation (``gc.callbacks``)
  and writes them as JSON to the file named by ``BENCH_GC_OUT`` at exit.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any


def _typer_flag() -> None:
    from localtelemetry import _integration as integration
    from localtelemetry._contract import FLAG

    integration._typer_flag_param(FLAG)


def _gc_off() -> None:
    gc.disable()


def _paused(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        was = gc.isenabled()
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return wrapper


def _gc_pause() -> None:
    from localtelemetry._telemetry import Telemetry

    Telemetry.begin_run = _paused(Telemetry.begin_run)  # type: ignore[method-assign]
    Telemetry.end_run = _paused(Telemetry.end_run)  # type: ignore[method-assign]


def _scrub_warm() -> None:
    from localtelemetry._record import known as _known  # noqa: F401 - as a failing run does
    from localtelemetry._record import scrub as _scrub

    _scrub.scrub(
        "<path:0123456789abcdef0123456789abcdef.md> links to missing note 'missing-note' "
        "(owner alice.smith@example.com)",
        hash_path=lambda path: "0123456789abcdef",
    )


def _empty_package() -> list[str]:
    import importlib
    import os
    import sys

    where, package, count = os.environ["BENCH_EMPTY_MODULES"].split(os.pathsep)
    sys.path.append(where)  # last: the app's own imports search no further than before
    importlib.import_module(package)
    return [f"{package}.m{i}" for i in range(int(count))]


def _empty_modules() -> None:
    import importlib

    for name in _empty_package():
        importlib.import_module(name)


def _gc_count() -> None:
    import atexit
    import json
    import os

    counts = {"0": 0, "1": 0, "2": 0}

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            counts[str(info["generation"])] += 1

    def write() -> None:
        with open(os.environ["BENCH_GC_OUT"], "w", encoding="utf-8") as fh:
            json.dump(counts, fh)

    gc.callbacks.append(seen)
    atexit.register(write)


PROTOTYPES: dict[str, Callable[[], object]] = {
    "typer-flag": _typer_flag,
    "gc-off": _gc_off,
    "gc-pause": _gc_pause,
    "scrub-warm": _scrub_warm,
    "empty-package": _empty_package,
    "empty-modules": _empty_modules,
    "gc-count": _gc_count,
}


_KEPT: list[object] = []


def apply(name: str) -> None:
    if name.startswith("gc-shift-"):
        _KEPT.extend([] for _ in range(int(name.removeprefix("gc-shift-"))))
        return
    PROTOTYPES[name]()
