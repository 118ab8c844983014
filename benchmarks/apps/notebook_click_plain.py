"""The Click host without localtelemetry: ``click_notes`` with a ``build`` that does nothing.

python benchmarks/apps/notebook_click_plain.py check NOTES_DIR
"""

from __future__ import annotations

from click_notes import make_cli


class _NoBuild:
    """Stands in for ``telemetry.build(...)``: every method does nothing."""

    def __enter__(self) -> _NoBuild:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def phase(self, name: str) -> _NoBuild:
        return self

    def path(self, role: str, path: object) -> None:
        return None

    def output(self, role: str, path: object) -> None:
        return None

    def filter(self, name: str, value: object) -> None:
        return None

    def count(self, name: str, n: int = 1) -> None:
        return None

    def warning(self, category: str, n: int = 1) -> None:
        return None

    def cache_hit(self, n: int = 1) -> None:
        return None

    def cache_miss(self, n: int = 1) -> None:
        return None


cli = make_cli(lambda name: _NoBuild())

if __name__ == "__main__":
    cli()
