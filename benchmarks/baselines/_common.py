"""What every baseline shares: where it writes, and running the app to learn its outcome."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def state_directory(app_name: str, sub: str) -> Path:
    """A per-user state directory, found from the environment like platformdirs would."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / app_name / sub


def run_app(app: Callable[..., Any], argv: list[str]) -> tuple[int, float]:
    """Run a Typer/Click app like its ``__main__`` would; returns (exit code, seconds)."""
    t0 = time.perf_counter()
    code = 0
    try:
        app(argv, standalone_mode=True)
    except SystemExit as exc:
        raw = exc.code
        code = raw if isinstance(raw, int) else (0 if raw is None else 1)
    return code, time.perf_counter() - t0
