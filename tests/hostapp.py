"""A host CLI used by the tests, runnable as a script (for subprocess tests) or imported.

Every command prints something on stdout so tests can compare output with and without
--telemetry. Secrets and paths planted here must never reach the store.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from localtelemetry import Limits, Telemetry

FAKE_TOKEN = "ghp_" + "Zq9" * 12  # a GitHub-token-shaped fake secret
FAKE_EMAIL = "jane.doe@example.org"

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
telemetry = Telemetry(
    "hostapp", version="2.0.1", limits=Limits(max_documents=100_000, max_bytes=10**9)
)
telemetry.install(app)


class CatalogError(Exception):
    pass


class Color(str, enum.Enum):
    red = "red"
    blue = "blue"


@app.command()
def ok(
    src: Annotated[Path, typer.Argument()] = Path("."),
    include: Annotated[str, typer.Option()] = "*",
    jobs: Annotated[int, typer.Option()] = 1,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    with telemetry.build("compile") as b:
        b.path("source", src)
        b.filter("include", include)
        with b.phase("parse"):
            pass
        b.count("files", 12)
    telemetry.snapshot("catalog", counts={"tables": 10}, filters={"include": include})
    print(f"ok src={src} include={include} jobs={jobs} verbose={verbose}")


@app.command()
def fail(code: Annotated[int, typer.Option()] = 3) -> None:
    print("failing with exit code", code)
    raise typer.Exit(code)


@app.command()
def boom(
    where: Annotated[str, typer.Option()] = "/home/jane/projects/secret-plan/data.csv",
) -> None:
    print("about to fail")
    raise CatalogError(f"cannot open {where} with token {FAKE_TOKEN} for {FAKE_EMAIL}")


@app.command()
def paint(
    color: Annotated[Color, typer.Option()] = Color.red,
    pair: Annotated[tuple[Color, str] | None, typer.Option()] = None,
    big: Annotated[int, typer.Option()] = 0,
) -> None:
    print("painted", color.value, pair[0].value if pair else "-", big > 0)


@app.command("open")
def open_(name: Annotated[str, typer.Argument()]) -> None:
    with open(name, encoding="utf-8") as fh:  # FileNotFoundError quotes the name
        print(fh.read())


@app.command("quit")
def quit_(code: Annotated[str, typer.Option()] = "true") -> None:
    print("quitting")
    sys.exit({"true": True, "256": 256, "-1": -1}[code])


@app.command()
def odd() -> None:
    """Bad arguments to the recording API: tolerated in both kinds of run."""
    telemetry.snapshot("s", counts=5)  # type: ignore[arg-type]
    with telemetry.build("b") as b:
        b.count(["unhashable"])  # type: ignore[arg-type]
        with b.phase("p") as phase:
            assert phase is not None
    print("odd done")


@app.command()
def sleep(seconds: Annotated[float, typer.Option()] = 30.0) -> None:
    print("sleeping", flush=True)
    time.sleep(seconds)
    print("woke")


@app.command()
def loop(runs: Annotated[int, typer.Option()] = 1) -> None:
    """Record `runs` complete runs in this one process (for the concurrency tests)."""
    for i in range(runs):
        with contextlib.suppress(SystemExit):
            app(["--telemetry", "ok", f"src-{os.getpid()}-{i}"], standalone_mode=False)
    print("looped", runs)


if __name__ == "__main__":
    sys.exit(app())
