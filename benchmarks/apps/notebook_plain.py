"""The example app (examples/notebook.py) without localtelemetry: the "plain" variant.

Same commands, same work, same output; ``telemetry.build(...)`` is replaced by a local
object whose methods do nothing, and ``telemetry.install(app)`` is gone. The benchmark
compares whole-process times of this file and ``examples/notebook.py``.

With ``BENCH_BASELINE=stdlib|otel|posthog`` in the environment the run is recorded by
one of the alternatives in ``benchmarks/baselines`` instead (imported only then).
"""

from __future__ import annotations

import enum
import fnmatch
import os
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="nb: index and check a directory of notes.", add_completion=False)

LINK_RE = re.compile(r"\[\[([^\]]+)\]\]")


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


class Mode(str, enum.Enum):
    fast = "fast"
    thorough = "thorough"


class BrokenLinkError(Exception):
    """A note links to a note that does not exist."""


def _notes(root: Path, include: str) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and fnmatch.fnmatch(p.name, include))


@app.command()
def index(
    src: Annotated[Path, typer.Argument(help="Directory of notes.")],
    include: Annotated[str, typer.Option(help="Glob of note file names.")] = "*.md",
    jobs: Annotated[int, typer.Option(help="Parallel jobs (simulated).")] = 1,
    mode: Annotated[Mode, typer.Option(help="How hard to look.")] = Mode.fast,
) -> None:
    """Build the link index of the notes under SRC."""
    with _NoBuild() as b:
        b.path("source", src)
        b.filter("include", include)
        with b.phase("scan"):
            notes = _notes(src, include)
        b.count("notes", len(notes))
        links = 0
        with b.phase("parse"):
            for note in notes:
                text = note.read_text(encoding="utf-8")
                found = LINK_RE.findall(text)
                links += len(found)
                if not found:
                    b.warning("orphan-note")
                if mode is Mode.thorough:
                    time.sleep(0.001)
                (b.cache_hit if len(text) < 200 else b.cache_miss)()
        b.count("links", links)
        with b.phase("write"):
            out = src / ".nb-index"
            out.write_text(f"{len(notes)} notes, {links} links\n", encoding="utf-8")
            b.output("index", out)
    typer.echo(f"indexed {len(notes)} notes with {links} links (jobs={jobs}, mode={mode.value})")


@app.command()
def check(
    src: Annotated[Path, typer.Argument(help="Directory of notes.")],
    include: Annotated[str, typer.Option(help="Glob of note file names.")] = "*.md",
) -> None:
    """Check that every wiki link points to an existing note; fails on the first broken one."""
    with _NoBuild() as b:
        b.path("source", src)
        names = {p.stem for p in _notes(src, include)}
        for note in _notes(src, include):
            b.count("notes")
            for target in LINK_RE.findall(note.read_text(encoding="utf-8")):
                if target not in names:
                    owner = "alice.smith@example.com"
                    raise BrokenLinkError(
                        f"{note.resolve()} links to missing note {target!r} (owner {owner})"
                    )
    typer.echo(f"{len(names)} notes, no broken links")


@app.command()
def stats(src: Annotated[Path, typer.Argument(help="Directory of notes.")]) -> None:
    """Print counts; exits 3 when there are no notes."""
    notes = _notes(src, "*.md")
    if not notes:
        typer.echo("no notes")
        raise typer.Exit(3)
    typer.echo(f"{len(notes)} notes")


def _main_with_baseline(name: str) -> Any:
    """Run the app recorded by one of the baseline recorders."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if name == "stdlib":
        from baselines.stdlib_recorder import recorded
    elif name == "otel":
        from baselines.otel_span import recorded
    elif name == "posthog":
        from baselines.posthog_capture import recorded
    else:
        raise SystemExit(f"unknown BENCH_BASELINE {name!r}")
    return recorded(app, "nb", sys.argv[1:])


if __name__ == "__main__":
    baseline = os.environ.get("BENCH_BASELINE")
    if baseline:
        _main_with_baseline(baseline)
    else:
        app()
