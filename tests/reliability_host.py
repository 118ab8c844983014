"""A host program for the crash tests: complete recorded runs in a loop, in one process,
so that a SIGKILL from the test lands inside recording rather than in start-up.

    reliability_host.py tight RUNS   record RUNS runs into the store 'tight' (under
                                     LOCALTELEMETRY_DIR), limited to TIGHT_LIMIT
                                     documents: once full, runs keep taking it over
                                     the limit and retention keeps pruning it back
    reliability_host.py fresh RUNS   record RUNS runs (a snapshot, then the run's own
                                     documents), each into a store that does not exist
                                     yet ($LOCALTELEMETRY_DIR/<pid>-<n>/fresh): each run
                                     creates the directory and the key

    reliability_host.py serve        read lines on stdin: MODE (tight/fresh) forks a
                                     child that runs that loop for ever and prints
                                     ``child PID``; ``reap`` waits for that child (which
                                     the test kills) and prints ``reaped``

Both loops print ``ready`` (flushed) after the first run. Nothing here is patched: the
windows the test wants to hit (pruning, key creation) are simply what these loops
spend their time on. ``serve`` exists so that hundreds of processes can be killed
without paying interpreter start-up each time: its children are ordinary recording
processes, forked after the imports.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import typer

from localtelemetry import Limits, Telemetry

TIGHT_LIMIT = 300


def _app(telemetry: Telemetry) -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    telemetry.install(app)

    @app.command()
    def work(item: str) -> None:
        with telemetry.build("work") as b:
            b.path("input", item)
            b.count("items", 3)
        telemetry.snapshot("state", counts={"items": 3}, filters={"item": item})

    @app.command()
    def other() -> None:
        pass

    return app


def _record(app: typer.Typer, item: str) -> None:
    with contextlib.suppress(SystemExit):
        app(["--telemetry", "work", item], standalone_mode=False)


def _say(line: str) -> None:
    """One write per line: the server and its forked children share this pipe, and
    print() may split a line into several writes that interleave (``childready``)."""
    sys.stdout.flush()
    os.write(1, (line + "\n").encode())


def main(mode: str, runs: int) -> None:
    base = Path(os.environ["LOCALTELEMETRY_DIR"])
    pid = os.getpid()
    tight = _app(Telemetry("tight", version="1", limits=Limits(max_documents=TIGHT_LIMIT)))
    for i in range(runs):
        if mode == "tight":
            _record(tight, f"/data/{pid}/{i}.csv")
        else:
            # The recording API without a CLI around it: the run is mostly the store's
            # and the key's creation.
            telemetry = Telemetry("fresh", version="1", directory=base / f"{pid}-{i}")
            run = telemetry.begin_run(True)
            assert run is not None
            telemetry.snapshot("state", counts={"items": 3}, filters={"item": str(i)})
            telemetry.end_run(run, 0)
        if i == 0:
            _say("ready")
    _say("done")


def _warm_up() -> None:
    """Import what recording needs once, before forking (without recording anything:
    the children must start from a process that never recorded)."""
    import localtelemetry._record.documents
    import localtelemetry._record.recorder
    import localtelemetry._record.scrub
    import localtelemetry._store.store  # noqa: F401

    with contextlib.suppress(SystemExit):  # a run without --telemetry records nothing
        _app(Telemetry("warm-up", version="1"))(["other"], standalone_mode=False)


def serve() -> None:
    _warm_up()
    child = 0
    for line in sys.stdin:
        if line.strip() == "reap":
            os.waitpid(child, 0)  # killed by the test: now it is really gone
            _say("reaped")
            continue
        sys.stdout.flush()
        child = os.fork()
        if child == 0:
            try:
                main(line.strip(), 10**9)
            finally:
                os._exit(0)
        _say(f"child {child}")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        main(sys.argv[1], int(sys.argv[2]))
