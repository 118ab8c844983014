"""The example app (examples/notebook.py) written for Click: the Click host of the benchmarks.

``make_cli(build)`` returns the ``nb`` group with the example's three commands; ``build``
is ``telemetry.build`` in the app with localtelemetry (``notebook_click.py``) and a
stand-in that does nothing in the app without it (``notebook_click_plain.py``), so the
two differ by exactly what localtelemetry adds. Written the way a plain Click app is:
paths are strings (``click.Path``), no pathlib, no fnmatch; so whatever localtelemetry
imports beyond Click shows in the comparison.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any

import click

LINK_RE = re.compile(r"\[\[([^\]]+)\]\]")


class BrokenLinkError(Exception):
    """A note links to a note that does not exist."""


def _notes(root: str, suffix: str) -> list[str]:
    found: list[str] = []
    for directory, _subdirectories, files in os.walk(root):
        found.extend(os.path.join(directory, f) for f in files if f.endswith(suffix))
    return sorted(found)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def make_cli(build: Callable[[str], Any]) -> click.Group:
    @click.group(help="nb: index and check a directory of notes.")
    def cli() -> None:
        pass

    @cli.command()
    @click.argument("src", type=click.Path(file_okay=False))
    @click.option("--suffix", default=".md", show_default=True, help="Ending of note names.")
    @click.option("--jobs", default=1, show_default=True, help="Parallel jobs (simulated).")
    @click.option("--mode", type=click.Choice(["fast", "thorough"]), default="fast")
    def index(src: str, suffix: str, jobs: int, mode: str) -> None:
        """Build the link index of the notes under SRC."""
        with build("index") as b:
            b.path("source", src)
            b.filter("suffix", suffix)
            with b.phase("scan"):
                notes = _notes(src, suffix)
            b.count("notes", len(notes))
            links = 0
            with b.phase("parse"):
                for note in notes:
                    text = _read(note)
                    found = LINK_RE.findall(text)
                    links += len(found)
                    if not found:
                        b.warning("orphan-note")
                    if mode == "thorough":
                        time.sleep(0.001)
                    (b.cache_hit if len(text) < 200 else b.cache_miss)()
            b.count("links", links)
            with b.phase("write"):
                out = os.path.join(src, ".nb-index")
                with open(out, "w", encoding="utf-8") as fh:
                    fh.write(f"{len(notes)} notes, {links} links\n")
                b.output("index", out)
        click.echo(f"indexed {len(notes)} notes with {links} links (jobs={jobs}, mode={mode})")

    @cli.command()
    @click.argument("src", type=click.Path(file_okay=False))
    @click.option("--suffix", default=".md", show_default=True, help="Ending of note names.")
    def check(src: str, suffix: str) -> None:
        """Check that every wiki link points to an existing note; fails on the first
        broken one."""
        with build("check") as b:
            b.path("source", src)
            notes = _notes(src, suffix)
            names = {os.path.basename(n)[: -len(suffix)] for n in notes}
            for note in notes:
                b.count("notes")
                for target in LINK_RE.findall(_read(note)):
                    if target not in names:
                        owner = "alice.smith@example.com"
                        raise BrokenLinkError(
                            f"{os.path.abspath(note)} links to missing note {target!r} "
                            f"(owner {owner})"
                        )
        click.echo(f"{len(names)} notes, no broken links")

    @cli.command()
    @click.argument("src", type=click.Path(file_okay=False))
    def stats(src: str) -> None:
        """Print counts; exits 3 when there are no notes."""
        notes = _notes(src, ".md")
        if not notes:
            click.echo("no notes")
            raise SystemExit(3)
        click.echo(f"{len(notes)} notes")

    return cli
