"""What ``telemetry.build()`` returns in a run that does not record.

Kept apart from ``_recorder`` so the disabled path imports nothing heavy.
"""

from __future__ import annotations

import os


class NullBuild:
    """What ``telemetry.build()`` returns when this run does not record: does nothing."""

    enabled = False
    status: str | None = None

    def __enter__(self) -> NullBuild:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def path(self, role: str, path: str | os.PathLike[str], *, output: bool = False) -> None:
        return None

    def output(self, role: str, path: str | os.PathLike[str]) -> None:
        return None

    def filter(self, name: str, value: object) -> None:
        return None

    def value(self, name: str, value: object) -> None:
        return None

    def count(self, name: str, n: int = 1) -> None:
        return None

    def cache_hit(self, n: int = 1) -> None:
        return None

    def cache_miss(self, n: int = 1) -> None:
        return None

    def warning(self, category: str, n: int = 1) -> None:
        return None

    def phase(self, name: str) -> NullPhase:
        return NullPhase()


class NullPhase:
    """``with b.phase(...) as p`` gives an object in both kinds of run."""

    def __enter__(self) -> NullPhase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None
