"""nb: a small notes indexer, used by `localtelemetry demo` and the tests.

It shows every part of the integration: build phases, counters, cache hits, warnings,
hashed paths and filters, a snapshot, and a command that fails on purpose (`check`
reports a broken link, with a path and an e-mail address in the message that the
recorder must scrub).

    python examples/notebook.py --telemetry index NOTES_DIR --include '*.md'
    python examples/notebook.py check NOTES_DIR --telemetry
    python examples/notebook.py telemetry status
"""

from __future__ import annotations

import enum
import fnmatch
import re
import time
from pathlib import Path
from typing import Annotated

import typer

from localtelemetry import Telemetry

app = typer.Typer(help="nb: index and check a directory of notes.", add_completion=False)
telemetry = Telemetry("nb", version="0.3.1")
telemetry.install(app)

LINK_RE = re.compile(r"\[\[([^\]]+)\]\]")


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
    with telemetry.build("index") as b:
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
    telemetry.snapshot(
        "catalog",
        counts={"notes": len(notes), "links": links},
        filters={"include": include},
        fingerprint="\n".join(sorted(p.name for p in notes)),
    )
    typer.echo(f"indexed {len(notes)} notes with {links} links (jobs={jobs}, mode={mode.value})")


@app.command()
def check(
    src: Annotated[Path, typer.Argument(help="Directory of notes.")],
    include: Annotated[str, typer.Option(help="Glob of note file names.")] = "*.md",
) -> None:
    """Check that every wiki link points to an existing note; fails on the first broken one."""
    with telemetry.build("check") as b:
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


if __name__ == "__main__":
    app()
