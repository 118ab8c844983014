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
* ``scrub-warm``: the scrubber imported and used once on a message, before the app
  runs (what a recorded failing run pays for it).
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
    from localtelemetry._telemetry import FLAG

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
    from localtelemetry import _scrub

    _scrub.scrub(
        "/home/someone/notes/a.md links to missing note 'x' (owner alice@example.com)",
        hash_path=lambda path: "0123456789abcdef",
    )


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


PROTOTYPES: dict[str, Callable[[], None]] = {
    "typer-flag": _typer_flag,
    "gc-off": _gc_off,
    "gc-pause": _gc_pause,
    "scrub-warm": _scrub_warm,
    "gc-count": _gc_count,
}


_KEPT: list[object] = []


def apply(name: str) -> None:
    if name.startswith("gc-shift-"):
        _KEPT.extend([] for _ in range(int(name.removeprefix("gc-shift-"))))
        return
    PROTOTYPES[name]()
